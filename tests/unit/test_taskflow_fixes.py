"""The fix of TaskFlow's retry-history decoding (orchestrator.taskflow_fixes)
and a boot flow's retry history through the SQL logbook."""

from taskflow.persistence import models
from taskflow.types import failure as tf_failure

from orchestrator import taskflow_fixes


def _failure(message):
    try:
        raise RuntimeError(message)
    except RuntimeError:
        return tf_failure.Failure()


def test_retry_history_keeps_each_attempts_result_through_a_round_trip():
    detail = models.RetryDetail('flows.tasks.scheduling.ScheduleInstance',
                                'retry-uuid')
    detail.results = [
        ({'selected_host': 'compute-1', 'alternates': ['compute-2']},
         {'SpawnOnHost': _failure('spawn failed on compute-1')}),
        ({'selected_host': 'compute-2', 'alternates': []}, {}),
    ]
    back = models.RetryDetail.from_dict(detail.to_dict())
    assert [result for result, _f in back.results] == [
        {'selected_host': 'compute-1', 'alternates': ['compute-2']},
        {'selected_host': 'compute-2', 'alternates': []}]
    (name, failure), = back.results[0][1].items()
    assert name == 'SpawnOnHost'
    assert failure.exception_str == 'spawn failed on compute-1'
    assert back.results[1][1] == {}
    assert back.last_results == {'selected_host': 'compute-2',
                                 'alternates': []}


def test_apply_is_idempotent():
    before = models.RetryDetail.from_dict
    taskflow_fixes.apply()
    taskflow_fixes.apply()
    assert models.RetryDetail.from_dict == before
    assert taskflow_fixes.history_survives_round_trip()
