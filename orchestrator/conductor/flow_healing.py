"""Make a job's logbook loadable before its engine is built.

A job carries what its flow needs (``details``: the flow detail's uuid
and the store; ``name``: the flow's name, hence its factory in
:mod:`flows.catalog`), so a logbook that a crash left missing or
incomplete is rebuilt from them instead of failing the dispatch (which
used to trash the job and drop an accepted request):

* the logbook or the job's flow detail is missing: saved anew from the
  flow's factory and the store;
* the flow's injector atom (where TaskFlow keeps the store) has no
  results: they are filled from the store.

Then a logbook posted by an older release is upgraded to today's flow
(:func:`flows.evolution.upgrade`: its factory and its atoms renamed,
added or removed as its flow module declares).

Idempotent: a complete, current logbook is left as it is.
"""

import contextlib
import logging

from taskflow import exceptions as tf_exc
from taskflow.persistence import models as tf_models

from orchestrator.conductor import jobs

from flows import catalog
from flows import evolution

LOG = logging.getLogger(__name__)


def heal(job, persistence):
    """Repair ``job``'s logbook in ``persistence`` if needed.

    :returns: what was repaired (a sentence), or None.
    """
    details = job.details or {}
    store = details.get('store')
    flow_module = catalog.by_flow_name(job.name)
    if store is None or flow_module is None or job.book_uuid is None:
        return None
    flow_uuid = details.get('flow_uuid')
    with contextlib.closing(persistence.get_connection()) as conn:
        try:
            book = conn.get_logbook(job.book_uuid)
        except tf_exc.NotFound:
            book = tf_models.LogBook(job.name, uuid=job.book_uuid)
        flow_detail = (book.find(flow_uuid) if flow_uuid
                       else next(iter(book), None))
        found = []
        if flow_detail is None:
            book.add(jobs.new_flow_detail(flow_module, store, flow_uuid))
            conn.save_logbook(book)
            found.append('its flow detail was missing; rebuilt from the job')
        else:
            if jobs.add_injector(flow_detail, store):
                conn.save_logbook(book)
                found.append("its flow's store was incomplete; filled "
                             "from the job")
            upgraded = upgrade_logbook(conn, flow_detail, flow_module)
            if upgraded:
                found.append(upgraded)
    if not found:
        return None
    what = '; '.join(found)
    LOG.warning('Job %s (%s): %s', job.uuid, job.name, what)
    return what


def upgrade_logbook(conn, flow_detail, flow_module):
    """Upgrade ``flow_detail`` to ``flow_module``'s shape and version
    and write it on ``conn`` (one transaction: the flow row, renamed
    atoms, added ones). Returns what changed (a sentence) or None."""
    if flow_detail.state in jobs.ENDED_FLOW_STATES:
        return None
    done = evolution.upgrade(flow_detail, flow_module,
                             catalog.atom_names(flow_module.get_flow(),
                                                 retries=True))
    if not done:
        return None
    conn.update_flow_details(flow_detail)
    return 'its logbook was upgraded: %s' % '; '.join(done)
