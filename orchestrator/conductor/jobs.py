"""Posting an operation: its flow saved in a logbook of its own, then a job.

Each job gets its own logbook (never one shared book: adding a flow to a
shared book makes TaskFlow rewrite every flow in it). The book's uuid is
derived from the flow name and the claim's task_id, so one claim posts at
most one flow: a repeated post finds the book and posts nothing.
"""

import logging
import uuid

from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow.persistence import models as tf_models

from orchestrator import failpoints
from orchestrator.conductor import resume_policy

from flows import keys

LOG = logging.getLogger(__name__)

#: Namespace of logbook uuids (fixed forever: books are found by it).
BOOK_NAMESPACE = uuid.UUID('7c1f3f64-5b0e-4f55-9a53-0d6f2b8e8a10')


def book_uuid_for(flow_name, key):
    """The logbook uuid of the flow ``flow_name`` for claim ``key``."""
    return str(uuid.uuid5(BOOK_NAMESPACE, '%s:%s' % (flow_name, key)))


class JobPoster:
    """Saves flows in the logbook and posts their jobs on the jobboard."""

    def __init__(self, board, persistence):
        self._board = board
        self._persistence = persistence

    def post(self, flow_module, store, key):
        """Post ``flow_module``'s flow with ``store`` once per ``key``.

        :param flow_module: a module of :mod:`flows` (FLOW_NAME, get_flow,
            RESUME_POLICY, optionally POINT_OF_NO_RETURN).
        :param store: the flow's JSON-safe store.
        :param key: what makes the operation unique (the claim's task_id).
        :returns: the job's uuid, or None if this key was posted before.
        """
        book_uuid = book_uuid_for(flow_module.FLOW_NAME, key)
        with _closing(self._persistence.get_connection()) as conn:
            try:
                conn.get_logbook(book_uuid, lazy=True)
            except tf_exc.NotFound:
                pass
            else:
                LOG.warning('Flow %s for %s was posted before; not again',
                            flow_module.FLOW_NAME, key)
                return None
            book = tf_models.LogBook(flow_module.FLOW_NAME, uuid=book_uuid)
            flow_detail = tf_models.FlowDetail(flow_module.FLOW_NAME,
                                               uuid=str(uuid.uuid4()))
            book.add(flow_detail)
            engines.save_factory_details(flow_detail, flow_module.get_flow,
                                         [], {})
            flow_detail.meta.update(store=store)
            flow_detail.meta.update(resume_policy.meta_for(flow_module))
            conn.save_logbook(book)
        job = self._board.post(flow_module.FLOW_NAME, book=book,
                               details={'flow_uuid': flow_detail.uuid,
                                        'store': store})
        LOG.info('Posted job %s (%s) for instance %s, claim %s', job.uuid,
                 flow_module.FLOW_NAME, store.get(keys.INSTANCE_UUID), key)
        failpoints.hit('%s:job:after-post' % flow_module.FLOW_NAME)
        return job.uuid


class _closing:
    def __init__(self, conn):
        self._conn = conn

    def __enter__(self):
        return self._conn

    def __exit__(self, *exc):
        self._conn.close()
