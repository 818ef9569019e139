"""No accepted request is lost: post what a crash left unposted.

Between the API's claim of an instance and the job of its flow on the
board, a request passes through the API, an RPC call and the
conductor's poster; a process killed on the way used to leave the
instance claimed and nothing running, until the deadline watchdog
"reverted" it 15 minutes later. :func:`run_once` (a conductor periodic,
``[conductor] accepted_check_interval_s``) looks at every open action
still holding its instance's claim and older than ``[conductor]
accepted_grace_s`` (in the all-in-one also any accepted before this
process started: nothing else can be handing it over), and:

* its flow's job is on the board: nothing to do (its pending request,
  if still recorded, is cleared);
* its request is recorded (``pending_request``): the flow is posted
  from it, as the conductor's RPC endpoint would have;
* its flow's logbook is saved but no job posted: the job is posted
  from the logbook's store (a flow that already ended is not);
* nothing was recorded (the process died right after the claim, before
  it answered the client): the claim is given back honestly; the action
  ends in Error with a fault saying nothing was done, a building server
  goes to ERROR, migrations the request had started are failed and a
  snapshot's queued image is deleted.

It also ends what a crash left of requests whose claim another request
took since (a delete, a force delete): a flow saved but never posted is
posted (it finds itself preempted and ends), an action with no flow ends
in Error; and it posts a force delete's cleanup whose request is
recorded but whose job is not on the board.

Posting is idempotent (:class:`orchestrator.conductor.jobs.JobPoster`),
so running this in several conductors at once posts each flow once
unless two post the same one in the same instant.
"""

import contextlib
import datetime
import logging

from taskflow import exceptions as tf_exc

from orchestrator import context as orch_context
from orchestrator import state_machine
from orchestrator import states
from orchestrator.conductor import audit
from orchestrator.conductor import jobs
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog as db_catalog
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import pending_requests

from flows import catalog

LOG = logging.getLogger(__name__)

#: Migration statuses of a request that never reached its flow.
_UNSTARTED_MIGRATION_STATUSES = frozenset([
    states.MIGRATION_ACCEPTED, states.MIGRATION_QUEUED,
    states.MIGRATION_PREPARING, states.MIGRATION_PRE_MIGRATING])

RELEASE_REASON = ('the request was interrupted before a conductor took '
                  'it (its process died); nothing was done')


class AcceptedRequests:
    """The periodic; ``manager`` is the conductor's RPC endpoint object
    (its methods post a request), ``board`` and ``persistence`` the
    conductor's."""

    def __init__(self, conf, manager, board, persistence,
                 not_before=None):
        self._conf = conf
        self._manager = manager
        self._board = board
        self._persistence = persistence
        #: Requests accepted before this instant are taken at once (the
        #: all-in-one's start: its API was dead until then).
        self._not_before = not_before

    def _cutoff(self):
        cutoff = models.utcnow() - datetime.timedelta(
            seconds=self._conf.conductor.accepted_grace_s)
        if self._not_before is not None:
            cutoff = max(cutoff, self._not_before)
        return cutoff

    def run_once(self):
        """Settle every unposted request; returns how many it acted on."""
        cutoff = self._cutoff()
        pending_requests.clear_finished(state_machine.FORCE_DELETE, cutoff)
        claims = [(a, i) for a, i in pending_requests.unposted_claims(cutoff)
                  if catalog.flow_for(a['action']) is not None]
        superseded = {}
        for action, holder in pending_requests.superseded_open_actions(
                cutoff):
            if catalog.flow_for(action['action']) is not None:
                superseded.setdefault(action['id'], (action, holder))
        cleanups = pending_requests.pending_of_action(
            state_machine.FORCE_DELETE, cutoff)
        if not (claims or superseded or cleanups):
            return 0
        on_board = {job.book_uuid
                    for job in self._board.iterjobs(ensure_fresh=True)}
        work = ([(self._settle, (a, i, on_board)) for a, i in claims]
                + [(self._settle_superseded, (a, h, on_board))
                   for a, h in superseded.values()]
                + [(self._post_cleanup, (a,)) for a in cleanups])
        done = 0
        for settle, args in work:
            try:
                done += settle(*args)
            except Exception:  # noqa: BLE001 - the next run tries again
                LOG.exception('Could not settle the accepted %s of %s',
                              args[0]['action'], args[0]['instance_uuid'])
        return done

    def _settle_superseded(self, action, holder, on_board):
        """An open action whose claim another request took (or the
        instance is deleted): its flow ends it if it runs; a flow saved
        but never posted is posted (it finds itself preempted and ends);
        one never saved never ran: the action ends in Error."""
        module = catalog.flow_for(action['action'])
        book_uuid = jobs.book_uuid_for(module.FLOW_NAME, action['task_id'])
        if book_uuid in on_board:
            return 0
        pending_requests.clear(action['id'])
        flow_detail = self._saved_flow(book_uuid)
        if flow_detail is not None:
            if flow_detail.state in jobs.ENDED_FLOW_STATES:
                audit.close_ended(flow_detail)
            else:
                self._manager.poster.post(
                    module, (flow_detail.meta or {}).get('store') or {},
                    action['task_id'])
            return 1
        message = ('the server was taken by %s before this request was '
                   'handed to a conductor; nothing was done'
                   % (holder or 'a later request'))
        LOG.warning('The %s of %s (action %s): %s', action['action'],
                    action['instance_uuid'], action['id'], message)
        db_actions.finish_if_open(action['id'], states.RESULT_ERROR,
                                  message=message)
        return 1

    def _post_cleanup(self, action):
        """A force delete whose cleanup a crash left unposted."""
        request = action['pending_request']
        ctxt = orch_context.from_store(request['context'])
        LOG.warning('The cleanup of force-deleted %s (action %s) was never '
                    'posted; posting it now', action['instance_uuid'],
                    action['id'])
        self._manager.cleanup_instance(
            ctxt, action['instance_uuid'], action_id=action['id'],
            **request.get('extra', {}))
        return 1

    def _settle(self, action, instance, on_board):
        module = catalog.flow_for(action['action'])
        task_id = action['task_id']
        book_uuid = jobs.book_uuid_for(module.FLOW_NAME, task_id)
        if book_uuid in on_board:
            if action['pending_request'] is not None:
                pending_requests.clear(action['id'])
            return 0
        request = action['pending_request']
        if request is not None:
            LOG.warning('The %s of %s (action %s) was accepted but never '
                        'posted; posting it now', action['action'],
                        instance['uuid'], action['id'])
            self._post_request(action, instance, request)
            return 1
        store = self._saved_store(book_uuid)
        if store is not None:
            self._manager.poster.post(module, store, task_id)
            return 1
        self._release(action, instance)
        return 1

    def _post_request(self, action, instance, request):
        ctxt = orch_context.from_store(request['context'])
        method = getattr(self._manager, request['method'])
        method(ctxt, instance_uuid=instance['uuid'],
               task_id=action['task_id'], action_id=action['id'],
               **request.get('extra', {}))

    def _saved_flow(self, book_uuid):
        """The flow detail saved in ``book_uuid``, or None."""
        try:
            with contextlib.closing(
                    self._persistence.get_connection()) as conn:
                book = conn.get_logbook(book_uuid)
        except tf_exc.NotFound:
            return None
        return next(iter(book), None)

    def _saved_store(self, book_uuid):
        """The store of the flow saved in ``book_uuid``, or None."""
        flow_detail = self._saved_flow(book_uuid)
        if flow_detail is None:
            return None
        return (flow_detail.meta or {}).get('store')

    def _release(self, action, instance):
        LOG.warning('The %s of %s (action %s) holds its claim but was '
                    'never handed to a conductor; giving the claim back',
                    action['action'], instance['uuid'], action['id'])
        if instances.release_claim(instance['uuid'], action['task_id'],
                                   fault=RELEASE_REASON):
            _drop_queued_snapshots(instance['uuid'], action['start_time'])
            for migration in migration_records.list_(
                    instance_uuid=instance['uuid'],
                    statuses=_UNSTARTED_MIGRATION_STATUSES):
                migration_records.set_status(
                    migration['uuid'], states.MIGRATION_ERROR,
                    from_statuses=_UNSTARTED_MIGRATION_STATUSES)
        db_actions.finish_if_open(action['id'], states.RESULT_ERROR,
                                  message=RELEASE_REASON)


def _drop_queued_snapshots(instance_uuid, since):
    """Delete the images a snapshot request of the instance queued since
    ``since`` (the API creates one before it hands the request over)."""
    for image in db_catalog.image_list(status='queued'):
        properties = image.get('properties') or {}
        created = image.get('created_at')
        if (properties.get('instance_uuid') == instance_uuid
                and (created is None or created >= since)):
            db_catalog.image_delete(image['id'])
