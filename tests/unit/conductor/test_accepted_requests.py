"""No accepted request lost between the API's claim and the job's run.

Real SQLite database, real SQL jobboard and TaskFlow persistence, the
real conductor endpoint and poster; a crash is represented by what it
leaves in the database (a request recorded but never posted, a logbook
saved without its job, a logbook missing its injected store).
"""

import contextlib
import datetime
import uuid

import sqlalchemy as sa
from taskflow import engines
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow import states as tf_states

from orchestrator import context as orch_context
from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.conductor import accepted
from orchestrator.conductor import flow_healing
from orchestrator.conductor import jobboards
from orchestrator.conductor import jobs
from orchestrator.conductor import manager
from orchestrator.db import actions as db_actions
from orchestrator.db import boot_requests
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import pending_requests
from orchestrator.db import session

from flows import boot
from flows import stop

PROJECT = 'accepted-project'


def _board(conf):
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    return persistence, jobboards.fetch(conf, persistence)


def _claimed_for_stop():
    inst, create_action = instances.create(
        {'display_name': 'accepted', 'project_id': PROJECT, 'host': 'h1',
         'user_id': 'u', 'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'i'},
        {'request_id': 'req-create', 'user_id': 'u', 'project_id': PROJECT})
    db_actions.finish(create_action['id'], s.RESULT_SUCCESS)
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == inst['uuid']).values(
                vm_state=s.ACTIVE, task_state=None, task_id=None))
    return instances.claim(inst['uuid'], sm.STOP,
                           {'request_id': 'req-stop', 'user_id': 'u',
                            'project_id': PROJECT})


def _ctxt():
    return orch_context.RequestContext(user_id='u', project_id=PROJECT,
                                       auth_token='s3cret-token')


def _sweeper(conf, persistence, board):
    endpoint = manager.ConductorManager(jobs.JobPoster(board, persistence))
    later = models.utcnow() + datetime.timedelta(seconds=1)
    return accepted.AcceptedRequests(conf, endpoint, board, persistence,
                                     not_before=later)


def _book_jobs(board, flow_module, task_id):
    book_uuid = jobs.book_uuid_for(flow_module.FLOW_NAME, task_id)
    return [j for j in board.iterjobs() if j.book_uuid == book_uuid]


def _post_stop(board, persistence, instance, action):
    """Post the claimed instance's stop flow as the conductor would;
    (its store, its job)."""
    store = {'context': {}, 'instance_uuid': instance['uuid'],
             'task_id': instance['task_id'], 'action_id': action['id']}
    jobs.JobPoster(board, persistence).post(stop, store,
                                            instance['task_id'])
    (job,) = _book_jobs(board, stop, instance['task_id'])
    return store, job


def _action(action_id):
    with session.reader() as sess:
        return sess.execute(sa.select(models.InstanceAction).where(
            models.InstanceAction.id == action_id)).scalar_one().as_dict()


def test_request_recorded_but_never_posted_is_posted(db, conf):
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    request = pending_requests.request_of(_ctxt(), 'start_action',
                                          {'operation': sm.STOP,
                                           'params': {}})
    pending_requests.record(action['id'], request)
    assert 's3cret-token' not in str(_action(action['id']))

    assert _sweeper(conf, persistence, board).run_once() == 1

    (job,) = _book_jobs(board, stop, instance['task_id'])
    assert job.details['store']['action_id'] == action['id']
    assert _action(action['id'])['pending_request'] is None
    # Run again: the job is on the board, nothing more is posted.
    _sweeper(conf, persistence, board).run_once()
    assert len(_book_jobs(board, stop, instance['task_id'])) == 1


def test_logbook_saved_without_its_job_gets_its_job(db, conf):
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    store, job = _post_stop(board, persistence, instance, action)
    # The crash: the job was never posted (here: taken off the board).
    board.claim(job, 'test')
    board.consume(job, 'test')
    assert not _book_jobs(board, stop, instance['task_id'])

    assert _sweeper(conf, persistence, board).run_once() == 1
    (again,) = _book_jobs(board, stop, instance['task_id'])
    assert again.details['store'] == store


def test_claim_nothing_recorded_for_is_given_back_honestly(db, conf):
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()

    assert _sweeper(conf, persistence, board).run_once() == 1

    row = instances.get(instance['uuid'])
    assert row['task_state'] is None and row['vm_state'] == s.ACTIVE
    finished = _action(action['id'])
    assert finished['result'] == s.RESULT_ERROR
    assert 'nothing was done' in finished['message']
    assert not list(board.iterjobs())


def test_recent_request_is_left_to_the_api_handing_it_over(db, conf):
    persistence, board = _board(conf)
    _instance, action = _claimed_for_stop()
    pending_requests.record(action['id'], pending_requests.request_of(
        _ctxt(), 'start_action', {'operation': sm.STOP, 'params': {}}))
    endpoint = manager.ConductorManager(jobs.JobPoster(board, persistence))
    sweeper = accepted.AcceptedRequests(conf, endpoint, board, persistence)
    assert sweeper.run_once() == 0
    assert _action(action['id'])['pending_request'] is not None


def test_post_saves_the_store_with_the_flow_in_one_write(db, conf):
    """The store is in the logbook before any engine loads it: a crash
    inside TaskFlow's own injection (two writes) can no longer leave a
    flow detail with an empty injector."""
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    store, job = _post_stop(board, persistence, instance, action)
    (flow_detail,) = list(job.book)
    (injector,) = [ad for ad in flow_detail
                   if ad.name == jobs.INJECTOR_NAME]
    assert injector.results == store
    assert injector.state == tf_states.SUCCESS


def _flow_detail_of(persistence, job):
    with contextlib.closing(persistence.get_connection()) as conn:
        return conn.get_logbook(job.book_uuid).find(
            job.details['flow_uuid'])


def test_empty_injector_left_by_a_crash_is_filled_from_the_job(db, conf):
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    store, job = _post_stop(board, persistence, instance, action)
    # What a SIGKILL inside TaskFlow's Storage.inject left (seen in a
    # user's run): the injector atom saved, its results not.
    flow_detail = _flow_detail_of(persistence, job)
    (injector,) = [ad for ad in flow_detail
                   if ad.name == jobs.INJECTOR_NAME]
    injector.results = None
    injector.state = None
    with contextlib.closing(persistence.get_connection()) as conn:
        conn.update_atom_details(injector)

    assert flow_healing.heal(job, persistence) is not None
    engine = engines.load_from_detail(
        _flow_detail_of(persistence, job), store=store,
        backend=persistence)
    engine.compile()
    engine.prepare()
    assert engine.storage.fetch('instance_uuid') == instance['uuid']
    assert flow_healing.heal(job, persistence) is None


def test_missing_flow_detail_is_rebuilt_from_the_job(db, conf):
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    store, job = _post_stop(board, persistence, instance, action)
    with contextlib.closing(persistence.get_connection()) as conn:
        conn.destroy_logbook(job.book_uuid)

    assert 'rebuilt' in flow_healing.heal(job, persistence)
    flow_detail = _flow_detail_of(persistence, job)
    assert flow_detail.meta['store'] == store
    engine = engines.load_from_detail(flow_detail, backend=persistence)
    engine.compile()
    engine.prepare()
    assert engine.storage.fetch('task_id') == instance['task_id']


def test_request_superseded_before_it_was_posted_ends_in_error(db, conf):
    """Killed after the claim; a delete took the server before the
    restart: the first request's action is ended, not left open."""
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    pending_requests.record(action['id'], pending_requests.request_of(
        _ctxt(), 'start_action', {'operation': sm.STOP, 'params': {}}))
    instances.claim(instance['uuid'], sm.DELETE,
                    {'request_id': 'req-delete', 'user_id': 'u',
                     'project_id': PROJECT})

    _sweeper(conf, persistence, board).run_once()

    ended = _action(action['id'])
    assert ended['result'] == s.RESULT_ERROR
    assert 'taken by delete' in ended['message']
    assert ended['pending_request'] is None
    assert not _book_jobs(board, stop, instance['task_id'])


def test_superseded_flow_saved_but_never_posted_is_posted(db, conf):
    """Its job runs, finds the claim gone and ends the flow (here the
    job is only checked to be on the board)."""
    persistence, board = _board(conf)
    instance, action = _claimed_for_stop()
    store, job = _post_stop(board, persistence, instance, action)
    board.claim(job, 'test')
    board.consume(job, 'test')
    instances.claim(instance['uuid'], sm.DELETE,
                    {'request_id': 'req-delete', 'user_id': 'u',
                     'project_id': PROJECT})

    _sweeper(conf, persistence, board).run_once()

    assert len(_book_jobs(board, stop, instance['task_id'])) == 1
    assert _action(action['id'])['finish_time'] is None


def test_force_delete_cleanup_recorded_but_never_posted_is_posted(db, conf):
    persistence, board = _board(conf)
    instance, _action_row = _claimed_for_stop()
    _before, force = instances.force_delete(
        instance['uuid'], {'request_id': 'req-force', 'user_id': 'u',
                           'project_id': PROJECT})
    pending_requests.record(force['id'], pending_requests.request_of(
        _ctxt(), 'cleanup_instance', {'host': 'h1'}))

    _sweeper(conf, persistence, board).run_once()

    (job,) = [j for j in board.iterjobs()
              if j.name == 'orchestrator-cleanup-server']
    assert job.details['store']['host'] == 'h1'
    assert _action(force['id'])['pending_request'] is None
    _sweeper(conf, persistence, board).run_once()
    assert len(list(board.iterjobs())) == 1


def test_finishing_an_action_forgets_its_pending_request(db, conf):
    """A kill between a job's post and the clearing of its request, then
    a flow that ran to its end: nothing is left waiting to be posted
    (a crash case waited for ever on it)."""
    _instance, action = _claimed_for_stop()
    pending_requests.record(action['id'], pending_requests.request_of(
        _ctxt(), 'start_action', {'operation': sm.STOP, 'params': {}}))
    db_actions.finish_if_open(action['id'], s.RESULT_SUCCESS)
    assert _action(action['id'])['pending_request'] is None


def test_every_server_of_a_multiple_create_killed_before_posting_is_posted(
        db, conf):
    """The API died right after the accept's commit: the three servers
    of the request were accepted together (each action holds its
    request), none was handed to a conductor; each gets its boot flow."""
    persistence, board = _board(conf)
    values = {'project_id': PROJECT, 'user_id': 'u', 'flavor_id': '1',
              'flavor': {'flavorid': '1'}, 'vcpus': 1, 'memory_mb': 512,
              'root_gb': 1, 'image_ref': 'i', 'reservation_id': 'r-kill'}

    def servers(count):
        return [dict(values, uuid=str(uuid.uuid4()),
                     display_name='web-%d' % (i + 1), launch_index=i)
                for i in range(count)]
    accepted_servers = boot_requests.accept(
        values, servers, (3, 3),
        {'request_id': 'req-multi', 'user_id': 'u', 'project_id': PROJECT},
        request=pending_requests.request_of(_ctxt(), 'build_instance',
                                            {'params': {}}))
    assert len(accepted_servers) == 3

    assert _sweeper(conf, persistence, board).run_once() == 3

    for instance, action in accepted_servers:
        (job,) = _book_jobs(board, boot, instance['task_id'])
        assert job.details['store']['instance_uuid'] == instance['uuid']
        assert _action(action['id'])['pending_request'] is None
