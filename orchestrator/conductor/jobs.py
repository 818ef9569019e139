"""Posting an operation: its flow saved in a logbook of its own, then a job.

Each job gets its own logbook (never one shared book: adding a flow to a
shared book makes TaskFlow rewrite every flow in it). The book's uuid is
derived from the flow name and the claim's task_id, so one claim posts at
most one flow.

Posting is idempotent and self-healing: posting the same key again posts
nothing when the job is on the board (or its flow already ended), and
posts the missing job when a crash came between the logbook's save and
the job's post. The logbook is saved whole in one transaction, its
flow's injected store included (TaskFlow's engine would otherwise add
the store in two writes, and a crash between them left a flow detail no
engine could load). Once the job is posted the action's pending request
is cleared (:mod:`orchestrator.db.pending_requests`).
"""

import logging
import uuid

from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow.persistence import models as tf_models
from taskflow import states as tf_states
from taskflow import storage as tf_storage

from orchestrator import failpoints
from orchestrator.conductor import resume_policy
from orchestrator.db import pending_requests

from flows import evolution
from flows import keys

LOG = logging.getLogger(__name__)

#: Namespace of logbook uuids (fixed forever: books are found by it).
BOOK_NAMESPACE = uuid.UUID('7c1f3f64-5b0e-4f55-9a53-0d6f2b8e8a10')

#: The atom TaskFlow keeps a flow's injected store in.
INJECTOR_NAME = tf_storage.Storage.injector_name

#: Flow states after which a flow never runs again by itself.
ENDED_FLOW_STATES = frozenset([tf_states.SUCCESS, tf_states.REVERTED,
                               tf_states.FAILURE])


def book_uuid_for(flow_name, key):
    """The logbook uuid of the flow ``flow_name`` for claim ``key``."""
    return str(uuid.uuid5(BOOK_NAMESPACE, '%s:%s' % (flow_name, key)))


def new_flow_detail(flow_module, store, flow_uuid=None):
    """A complete flow detail of ``flow_module`` for ``store``: the
    factory to rebuild the flow, the store in its meta and in its
    injector atom, the resume policy, the flow's version
    (:mod:`flows.evolution`)."""
    flow_detail = tf_models.FlowDetail(flow_module.FLOW_NAME,
                                       uuid=flow_uuid or str(uuid.uuid4()))
    engines.save_factory_details(flow_detail, flow_module.get_flow, [], {})
    flow_detail.meta.update(store=store)
    flow_detail.meta.update(resume_policy.meta_for(flow_module))
    flow_detail.meta[evolution.META_KEY] = evolution.flow_version(
        flow_module)
    add_injector(flow_detail, store)
    return flow_detail


def add_injector(flow_detail, store):
    """Give ``flow_detail`` its injector atom holding ``store`` (or fill
    the results of one a crash left empty). Returns True if it changed
    anything."""
    injector = _find(flow_detail)
    if injector is None:
        injector = tf_models.TaskDetail(INJECTOR_NAME, str(uuid.uuid4()))
        injector.state = tf_states.SUCCESS
        injector.results = dict(store)
        flow_detail.add(injector)
        return True
    if injector.results is None:
        injector.state = tf_states.SUCCESS
        injector.results = dict(store)
        return True
    return False


def _find(flow_detail):
    for atom_detail in flow_detail:
        if atom_detail.name == INJECTOR_NAME:
            return atom_detail
    return None


def has_job_for_book(board, book_uuid):
    """True when ``board`` holds a job (claimed or not) of the book."""
    return any(job.book_uuid == book_uuid
               for job in board.iterjobs(ensure_fresh=True))


class JobPoster:
    """Saves flows in the logbook and posts their jobs on the jobboard."""

    def __init__(self, board, persistence, on_posted=None):
        """:param on_posted: called (no arguments) after each job this
        poster posts: the local conductor's wake-up
        (:mod:`orchestrator.conductor.wakeup`)."""
        self._board = board
        self._persistence = persistence
        self._on_posted = on_posted

    def post(self, flow_module, store, key):
        """Post ``flow_module``'s flow with ``store`` once per ``key``.

        :param flow_module: a module of :mod:`flows` (FLOW_NAME, get_flow,
            RESUME_POLICY, optionally POINT_OF_NO_RETURN).
        :param store: the flow's JSON-safe store.
        :param key: what makes the operation unique (the claim's task_id).
        :returns: the job's uuid, or None if this key's job was posted
            before (or its flow already ended).

        Re-run: a saved logbook is not saved again; a job on the board
        is not posted again; a missing job of a flow that has not ended
        is posted.
        """
        flow_name = flow_module.FLOW_NAME
        book_uuid = book_uuid_for(flow_name, key)
        with _closing(self._persistence.get_connection()) as conn:
            try:
                book = conn.get_logbook(book_uuid)
            except tf_exc.NotFound:
                failpoints.hit('%s:job:before-save' % flow_name)
                book = tf_models.LogBook(flow_name, uuid=book_uuid)
                book.add(new_flow_detail(flow_module, store))
                conn.save_logbook(book)
                failpoints.hit('%s:job:after-save' % flow_name)
            else:
                if self._posted_before(book):
                    LOG.info('Flow %s for %s was posted before; not again',
                             flow_name, key)
                    self._clear_pending(store)
                    return None
                LOG.warning('Flow %s for %s was saved but its job never '
                            'posted; posting it now', flow_name, key)
        flow_detail = next(iter(book))
        job = self._board.post(flow_name, book=book,
                               details={'flow_uuid': flow_detail.uuid,
                                        'store': store})
        LOG.info('Posted job %s (%s) for instance %s, claim %s', job.uuid,
                 flow_name, store.get(keys.INSTANCE_UUID), key)
        if self._on_posted is not None:
            self._on_posted()
        failpoints.hit('%s:job:after-post' % flow_name)
        self._clear_pending(store)
        return job.uuid

    def _posted_before(self, book):
        """True when the book's job is on the board or its flow ended
        (its job was consumed)."""
        if has_job_for_book(self._board, book.uuid):
            return True
        return any(fd.state in ENDED_FLOW_STATES for fd in book)

    @staticmethod
    def _clear_pending(store):
        action_id = store.get(keys.ACTION_ID)
        if action_id is not None:
            pending_requests.clear(action_id)


class _closing:
    def __init__(self, conn):
        self._conn = conn

    def __enter__(self):
        return self._conn

    def __exit__(self, *exc):
        self._conn.close()
