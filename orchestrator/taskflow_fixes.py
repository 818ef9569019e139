"""A fix for TaskFlow's persistence of retry histories.

TaskFlow 6.5's ``RetryDetail.from_dict`` decodes each ``(result,
failures)`` pair of a retry's history with an inner loop that reuses the
name of the result for each failure, so every result followed by a
failure comes back as that failure's dict. The SQL persistence backend
round-trips atom details through ``from_dict`` when it saves them, so the
logbook of a retried subflow keeps failure dicts where the retry's
results were: a flow resumed from it (a conductor restarted, or another
one taking over a lease) finds no ``selected_host`` and cannot revert or
go on.

:func:`apply` replaces ``from_dict`` with one that decodes the pairs as
``to_dict`` encoded them, and only when the installed TaskFlow shows the
bug (checked with a round trip), so a fixed TaskFlow is left as it is.
Importing this module applies it; applying again does nothing.
"""

from taskflow.persistence import models
from taskflow.types import failure as tf_failure

_PROBE_RESULT = {'probe': 'result'}


def _decode_pairs(results):
    """``(result, {atom name: Failure})`` pairs from their encoded form."""
    return [(result, {name: tf_failure.Failure.from_dict(encoded)
                      for name, encoded in (failures or {}).items()})
            for result, failures in (results or [])]


def _retry_detail_from_dict(cls, data):
    """RetryDetail.from_dict keeping each attempt's result."""
    obj = super(models.RetryDetail, cls).from_dict(data)
    obj.results = _decode_pairs(obj.results)
    return obj


def history_survives_round_trip():
    """True when a retry history with a failure keeps its result through
    ``to_dict``/``from_dict``."""
    try:
        raise RuntimeError('probe')
    except RuntimeError:
        probe_failure = tf_failure.Failure()
    detail = models.RetryDetail('probe', 'probe-uuid')
    detail.results = [(dict(_PROBE_RESULT), {'atom': probe_failure})]
    back = models.RetryDetail.from_dict(detail.to_dict())
    return back.results[0][0] == _PROBE_RESULT


def apply():
    """Install the fixed ``RetryDetail.from_dict`` unless retry histories
    already survive a round trip (a fixed TaskFlow, or applied before)."""
    if not history_survives_round_trip():
        models.RetryDetail.from_dict = classmethod(_retry_detail_from_dict)


apply()
