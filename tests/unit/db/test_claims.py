"""The API's atomic check-and-claim (orchestrator.db.instances.claim).

Concurrent conflicting claims race on SQLite, PostgreSQL and MariaDB:
exactly the claims the allowed-actions table permits win, the others get
InstanceInvalidState naming the state that refused them, and the row and
the audit trail agree with the winners.
"""

import threading
import uuid

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import schema
from orchestrator.db import session

PROJECT = 'claims-project'
# Each race is run several times: one run can be won by whoever happened
# to start first; repeats make the interleavings vary.
ROUNDS = 5


def _new_instance(vm_state=s.ACTIVE, task_state=None, host='compute-1'):
    inst, _action = instances.create(
        {'display_name': 'claim-test', 'project_id': PROJECT, 'host': host,
         'user_id': 'claims-user', 'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image'},
        {'request_id': 'req-create', 'user_id': 'claims-user',
         'project_id': PROJECT})
    _set_state(inst['uuid'], vm_state, task_state)
    return inst['uuid']


def _set_state(instance_uuid, vm_state, task_state):
    """Put the instance in a state directly, as a finished task would."""
    task_id = str(uuid.uuid4()) if task_state else None
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(
                vm_state=vm_state, task_state=task_state, task_id=task_id))
    return task_id


def _row(instance_uuid):
    with session.reader() as sess:
        return sess.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid)).scalar_one().as_dict()


def _actions(instance_uuid):
    with session.reader() as sess:
        return [a.as_dict() for a in sess.execute(
            sa.select(models.InstanceAction).where(
                models.InstanceAction.instance_uuid == instance_uuid,
                models.InstanceAction.action != sm.BOOT).order_by(
                models.InstanceAction.id)).scalars()]


def _race(instance_uuid, action_names):
    """Claim concurrently, one thread per action, all released at once.

    :returns: list of (action name, request id, result or exception).
    """
    barrier = threading.Barrier(len(action_names))
    outcomes = [None] * len(action_names)

    def claim(i, name):
        request_id = 'req-%d-%s' % (i, uuid.uuid4().hex[:8])
        barrier.wait(timeout=30)
        try:
            result = instances.claim(
                instance_uuid, name,
                {'request_id': request_id, 'user_id': 'claims-user',
                 'project_id': PROJECT}, project_id=PROJECT)
        except Exception as e:  # noqa: BLE001 - recorded and checked
            result = e
        outcomes[i] = (name, request_id, result)

    threads = [threading.Thread(target=claim, args=(i, name))
               for i, name in enumerate(action_names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), 'a claim hung'
    return outcomes


def _split(outcomes):
    won = [o for o in outcomes if not isinstance(o[2], Exception)]
    lost = [o for o in outcomes if isinstance(o[2], Exception)]
    for name, _req, error in lost:
        assert isinstance(error, exception.InstanceInvalidState), (
            name, repr(error))
    return won, lost


def _check_audit(instance_uuid, won):
    """One instance action per winning request, none for the losers."""
    rows = _actions(instance_uuid)
    assert sorted((r['action'], r['request_id']) for r in rows) == sorted(
        (name, req) for name, req, _res in won)
    by_request = {r['request_id']: r for r in rows}
    for name, req, (inst, act) in won:
        assert by_request[req]['action'] == name
        assert by_request[req]['task_id'] == inst['task_id']
        assert act['id'] == by_request[req]['id']


@pytest.mark.parametrize('contenders', [2, 4])
def test_concurrent_deletes_exactly_one_claims_the_others_join(database,
                                                               contenders):
    """N concurrent deletes: one claims (one task_id, one action), the
    N-1 others join it (no error, nothing written: Nova answers a
    repeated delete 204)."""
    for _round in range(ROUNDS):
        instance_uuid = _new_instance(s.ACTIVE)
        outcomes = _race(instance_uuid, [sm.DELETE] * contenders)
        won, lost = _split(outcomes)
        assert lost == [], outcomes
        claimed = [o for o in won if o[2][1] is not None]
        joined = [o for o in won if o[2][1] is None]
        assert len(claimed) == 1, outcomes
        assert len(joined) == contenders - 1
        (_name, _req, (inst, _act)) = claimed[0]
        for _name, _req, (seen, _none) in joined:
            assert seen['task_state'] == s.DELETING
            assert seen['task_id'] == inst['task_id']
        row = _row(instance_uuid)
        assert row['vm_state'] == s.ACTIVE
        assert row['task_state'] == s.DELETING
        assert row['task_id'] == inst['task_id']
        _check_audit(instance_uuid, claimed)


@pytest.mark.parametrize('pair', [(sm.STOP, sm.PAUSE),
                                  (sm.STOP, sm.STOP),
                                  (sm.REBOOT_SOFT, sm.SUSPEND)])
def test_concurrent_tasks_on_an_idle_instance_exactly_one_wins(database,
                                                                pair):
    """Two actions that both need task_state NULL: one task at a time."""
    for _round in range(ROUNDS):
        instance_uuid = _new_instance(s.ACTIVE)
        outcomes = _race(instance_uuid, list(pair))
        won, lost = _split(outcomes)
        assert len(won) == 1 and len(lost) == 1, outcomes
        winner = sm.ACTIONS[won[0][0]]
        assert 'task_state %s' % winner.task_state in str(lost[0][2])
        row = _row(instance_uuid)
        assert row['task_state'] == winner.task_state
        assert row['task_id'] == won[0][2][0]['task_id']
        _check_audit(instance_uuid, won)


def test_delete_races_stop(database):
    """Delete may preempt a running stop, never the other way round.

    If delete claims first, stop loses (409, naming 'deleting'). If stop
    claims first, delete still wins over it (it is allowed while
    powering-off). Either way the instance ends claimed by the delete.
    """
    for _round in range(ROUNDS):
        instance_uuid = _new_instance(s.ACTIVE)
        outcomes = _race(instance_uuid, [sm.STOP, sm.DELETE])
        won, lost = _split(outcomes)
        by_name = {name: res for name, _req, res in outcomes}
        assert not isinstance(by_name[sm.DELETE], Exception), outcomes
        delete_inst, delete_act = by_name[sm.DELETE]
        if isinstance(by_name[sm.STOP], Exception):
            assert 'task_state %s' % s.DELETING in str(by_name[sm.STOP])
        else:
            # Stop won first: its action row precedes the delete's.
            assert by_name[sm.STOP][1]['id'] < delete_act['id']
        row = _row(instance_uuid)
        assert row['task_state'] == s.DELETING
        assert row['task_id'] == delete_inst['task_id']
        _check_audit(instance_uuid, won)


@pytest.fixture
def memory_db():
    """SQLite in memory (one connection): the exhaustive walk below makes
    ~30k transactions, which a file database's fsyncs make slow."""
    engine = session.configure('sqlite://')
    schema.db_sync(engine)
    yield engine
    engine.dispose()


@pytest.mark.parametrize('vm_state', sorted(s.VM_STATES - s.GONE_VM_STATES))
def test_claim_refuses_what_the_table_refuses(memory_db, vm_state):
    """Every live (vm_state, task_state) pair, every claiming action: the
    single UPDATE agrees with Action.allows(), a claim that joins the
    running task agrees with Action.joined(), and a refused or joined
    claim changes nothing."""
    claiming = sorted(n for n, a in sm.ACTIONS.items()
                      if a.task_state is not None and n != sm.BOOT)
    instance_uuid = _new_instance()
    for task_state in [None] + sorted(s.TASK_STATES):
        task_id = _set_state(instance_uuid, vm_state, task_state)
        for name in claiming:
            action = sm.ACTIONS[name]
            try:
                inst, act = instances.claim(
                    instance_uuid, name,
                    {'request_id': 'req', 'user_id': 'u',
                     'project_id': PROJECT})
            except exception.InstanceInvalidState as e:
                assert not action.allows(vm_state, task_state), (
                    name, vm_state, task_state, str(e))
                assert not action.joined(vm_state, task_state)
                assert str(e) == action.refusal(vm_state, task_state)
            else:
                if act is None:
                    assert action.joined(vm_state, task_state), (
                        name, vm_state, task_state)
                    assert not action.allows(vm_state, task_state)
                    assert (inst['task_state'], inst['task_id']) == (
                        task_state, task_id)
                    continue
                assert action.allows(vm_state, task_state), (
                    name, vm_state, task_state)
                assert inst['task_state'] == action.task_state
                assert inst['vm_state'] == vm_state
                assert inst['task_id'] not in (None, task_id)
                task_id = _set_state(instance_uuid, vm_state, task_state)
        # No refused claim left a trace on the row.
        row = _row(instance_uuid)
        assert (row['vm_state'], row['task_state'], row['task_id']) == (
            vm_state, task_state, task_id)


@pytest.mark.parametrize('vm_state', [s.ERROR, s.ACTIVE, s.STOPPED,
                                      s.SOFT_DELETED])
def test_claim_of_a_host_action_on_an_instance_without_host(memory_db,
                                                            vm_state):
    """An instance that never got a host (an errored build): every action
    the table allows there that needs a host (stop, hard reboot, ...) is
    refused by the claim itself, 409 'the server has no host', leaving no
    trace; those that need none (delete, soft delete) are claimed."""
    claiming = sorted(n for n, a in sm.ACTIONS.items()
                      if a.task_state is not None and n != sm.BOOT)
    instance_uuid = _new_instance(host=None)
    refused = []
    for name in claiming:
        action = sm.ACTIONS[name]
        if not action.allows(vm_state, None):
            continue
        _set_state(instance_uuid, vm_state, None)
        try:
            instances.claim(instance_uuid, name,
                            {'request_id': 'req', 'user_id': 'u',
                             'project_id': PROJECT})
        except exception.InstanceInvalidState as e:
            assert action.needs_host, (name, str(e))
            assert str(e) == action.refusal_without_host()
            assert 'the server has no host' in str(e)
            assert _row(instance_uuid)['task_state'] is None
            refused.append(name)
        else:
            assert not action.needs_host, name
    if vm_state == s.ERROR:
        assert {sm.STOP, sm.REBOOT_HARD, sm.REBUILD, sm.RESCUE,
                sm.EVACUATE} <= set(refused), refused
    assert not [a for a in _actions(instance_uuid)
                if a['action'] in refused]


def test_claim_of_another_projects_instance_is_not_found(db):
    instance_uuid = _new_instance()
    with pytest.raises(exception.InstanceNotFound):
        instances.claim(instance_uuid, sm.STOP,
                        {'request_id': 'req', 'user_id': 'u',
                         'project_id': 'other'}, project_id='other')
    assert _row(instance_uuid)['task_state'] is None
    assert _actions(instance_uuid) == []


def test_claim_with_a_non_claiming_action_is_a_bug(db):
    instance_uuid = _new_instance()
    with pytest.raises(ValueError):
        instances.claim(instance_uuid, sm.FORCE_DELETE,
                        {'request_id': 'req', 'user_id': 'u',
                         'project_id': PROJECT})


def test_progress_of_a_task_that_ended_is_dropped(db):
    """Integration finding: the spawn a conductor made before it lost its
    job reported progress after the flow had ended (same task_id), and
    changed the finished server."""
    instance_uuid = _new_instance(vm_state=s.ACTIVE)
    claimed, _action = instances.claim(
        instance_uuid, sm.STOP, {'request_id': 'r', 'user_id': 'u',
                                 'project_id': PROJECT})
    assert instances.set_progress(instance_uuid, claimed['task_id'], 40)
    instances.cas_update(instance_uuid, claimed['task_id'],
                         {'task_state': None, 'vm_state': s.STOPPED},
                         action=sm.STOP)
    before = _row(instance_uuid)
    assert not instances.set_progress(instance_uuid, claimed['task_id'], 70)
    assert _row(instance_uuid) == before


def test_the_same_write_again_changes_nothing(db):
    """A step run again (or by a conductor that lost its job to one that
    finished it) writes nothing, not even updated_at (integration
    finding: the stale conductor's MarkActive touched the finished
    server)."""
    instance_uuid = _new_instance(vm_state=s.ACTIVE)
    claimed, _action = instances.claim(
        instance_uuid, sm.STOP, {'request_id': 'r', 'user_id': 'u',
                                 'project_id': PROJECT})
    done = {'task_state': None, 'vm_state': s.STOPPED}
    instances.cas_update(instance_uuid, claimed['task_id'], done,
                         action=sm.STOP)
    first = _row(instance_uuid)
    instances.cas_update(instance_uuid, claimed['task_id'], done,
                         action=sm.STOP)
    assert _row(instance_uuid) == first
