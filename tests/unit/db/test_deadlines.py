"""Task deadlines on the instance row (orchestrator.db.deadlines).

Every write that sets a task_state starts its deadline, every write that
clears it clears the deadline; the watchdog's decision is one
compare-and-swap that exactly one of several concurrent callers wins.
"""

import datetime
import threading
import uuid

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.db import actions
from orchestrator.db import deadlines
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

ACTION_VALUES = {'request_id': 'req-test', 'user_id': 'u',
                 'project_id': 'p'}


def _new_instance():
    inst, action = instances.create(
        {'display_name': 'deadline-test', 'project_id': 'p', 'host': 'h1',
         'user_id': 'u', 'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image'},
        ACTION_VALUES)
    return inst, action


def _row(instance_uuid):
    with session.reader() as sess:
        return sess.execute(sa.select(models.Instance).where(
            models.Instance.uuid == instance_uuid)).scalar_one().as_dict()


def _set(instance_uuid, **values):
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(**values))


def _seconds_from_now(when):
    return (when - models.utcnow()).total_seconds()


def _overdue(instance_uuid, vm_state=s.ACTIVE, task_state=s.POWERING_OFF,
             host='host-1', task_id=None):
    """Put the instance in a task whose deadline passed a second ago."""
    task_id = task_id or str(uuid.uuid4())
    _set(instance_uuid, vm_state=vm_state, task_state=task_state,
         task_id=task_id, host=host,
         task_deadline_at=models.utcnow() - datetime.timedelta(seconds=1))
    return [i for i in deadlines.list_overdue()
            if i['uuid'] == instance_uuid][0]


def test_deadline_for_reads_the_per_state_option_then_the_default(db, conf):
    conf.set_override('default_task_deadline_s', 120, group='conductor')
    conf.set_override('task_deadlines_s', {s.SPAWNING: 30},
                      group='conductor')
    assert deadlines.deadline_for(s.SPAWNING) == 30
    assert deadlines.deadline_for(s.POWERING_OFF) == 120
    assert deadlines.deadline_for(None) is None
    assert deadlines.deadline_at(None) is None
    now = models.utcnow()
    assert deadlines.deadline_at(s.SPAWNING, now) == (
        now + datetime.timedelta(seconds=30))


def test_slow_task_states_get_generous_defaults(conf):
    for slow in (s.SPAWNING, s.IMAGE_UPLOADING, s.MIGRATING,
                 s.RESIZE_MIGRATING):
        assert deadlines.deadline_for(slow) > deadlines.deadline_for(
            s.POWERING_OFF)


@pytest.mark.parametrize('value', [{'powering_off': 5}, 'spawnin:5',
                                   {s.SPAWNING: 0}, 'spawning:-2'])
def test_unknown_task_states_and_bad_seconds_are_refused(conf, value):
    with pytest.raises(ValueError) as info:
        conf.set_override('task_deadlines_s', value, group='conductor')
    assert 'task_state' in str(info.value) or 'more than 0' in str(
        info.value)


def test_create_claim_and_task_state_changes_maintain_the_deadline(db,
                                                                   conf):
    conf.set_override('task_deadlines_s', {s.SCHEDULING: 100,
                                           s.NETWORKING: 200,
                                           s.POWERING_OFF: 300},
                      group='conductor')
    inst, _action = _new_instance()
    assert 98 < _seconds_from_now(_row(inst['uuid'])[
        'task_deadline_at']) <= 100
    task_id = inst['task_id']
    instances.cas_update(inst['uuid'], task_id,
                         {'task_state': s.NETWORKING})
    networking_deadline = _row(inst['uuid'])['task_deadline_at']
    assert 198 < _seconds_from_now(networking_deadline) <= 200
    # Writing the same task_state again keeps its deadline running.
    instances.cas_update(inst['uuid'], task_id,
                         {'task_state': s.NETWORKING, 'host': 'host-1'})
    assert _row(inst['uuid'])['task_deadline_at'] == networking_deadline
    # A write without task_state leaves it too; clearing it clears it.
    instances.cas_update(inst['uuid'], task_id, {'progress': 50})
    assert _row(inst['uuid'])['task_deadline_at'] == networking_deadline
    instances.cas_update(inst['uuid'], task_id,
                         {'task_state': None, 'vm_state': s.ACTIVE},
                         action=sm.BOOT)
    assert _row(inst['uuid'])['task_deadline_at'] is None
    claimed, _act = instances.claim(inst['uuid'], sm.STOP, ACTION_VALUES)
    assert 298 < _seconds_from_now(claimed['task_deadline_at']) <= 300


def test_release_reset_and_force_delete_clear_the_deadline(db):
    inst, _action = _new_instance()
    assert instances.release_claim(inst['uuid'], inst['task_id'])
    assert _row(inst['uuid'])['task_deadline_at'] is None
    instances.reset_state(inst['uuid'], s.ACTIVE, ACTION_VALUES)
    claimed, _act = instances.claim(inst['uuid'], sm.STOP, ACTION_VALUES)
    assert claimed['task_deadline_at'] is not None
    instances.reset_state(inst['uuid'], s.ACTIVE, ACTION_VALUES)
    assert _row(inst['uuid'])['task_deadline_at'] is None
    claimed, _act = instances.claim(inst['uuid'], sm.STOP, ACTION_VALUES)
    instances.force_delete(inst['uuid'], ACTION_VALUES)
    row = _row(inst['uuid'])
    assert row['task_deadline_at'] is None and row['task_state'] is None


def test_stamp_missing_gives_a_deadline_once_and_list_overdue_finds_it(
        db, conf):
    conf.set_override('task_deadlines_s', {s.POWERING_OFF: 50},
                      group='conductor')
    inst, _action = _new_instance()
    _set(inst['uuid'], vm_state=s.ACTIVE, task_state=s.POWERING_OFF,
         task_deadline_at=None)
    assert deadlines.stamp_missing() == 1
    stamped = _row(inst['uuid'])['task_deadline_at']
    assert 48 < _seconds_from_now(stamped) <= 50
    assert deadlines.stamp_missing() == 0
    assert _row(inst['uuid'])['task_deadline_at'] == stamped
    assert deadlines.list_overdue() == []
    later = stamped + datetime.timedelta(seconds=1)
    assert [i['uuid'] for i in deadlines.list_overdue(later)] == [
        inst['uuid']]


def test_record_decision_preempts_the_task_and_audits_it(db):
    inst, create_action = _new_instance()
    overdue = _overdue(inst['uuid'], vm_state=s.BUILDING,
                       task_state=s.SPAWNING, task_id=inst['task_id'])
    task_id, action = deadlines.record_decision(
        overdue, s.ERROR, (500, 'create passed its deadline', 'details'),
        'create passed its deadline; vm_state error', 'deadline',
        s.RESULT_ERROR)
    row = _row(inst['uuid'])
    assert (row['vm_state'], row['task_state'], row['task_deadline_at']) == (
        s.ERROR, None, None)
    assert row['task_id'] == task_id != inst['task_id']
    # The stuck flow's next write finds itself preempted.
    with pytest.raises(exception.Preempted):
        instances.cas_update(inst['uuid'], inst['task_id'],
                             {'task_state': None})
    assert instances.latest_fault(inst['uuid'])['message'] == (
        'create passed its deadline')
    finished = actions.get(create_action['id'])
    assert (finished['result'], finished['message']) == (
        s.RESULT_ERROR, 'create passed its deadline')
    decided = actions.get(action['id'])
    assert decided['action'] == 'deadline'
    assert decided['task_id'] == task_id
    assert decided['finish_time'] is not None
    assert decided['message'] == 'create passed its deadline; vm_state error'
    # The flow's audit listener finishing the action later keeps it.
    assert not actions.finish_if_open(create_action['id'],
                                      s.RESULT_ERROR, 'Preempted')
    assert actions.get(create_action['id'])['message'] == (
        'create passed its deadline')
    # Deciding again writes nothing.
    assert deadlines.record_decision(
        overdue, s.ERROR, (500, 'again', None), 'again', 'deadline',
        s.RESULT_ERROR) is None


def test_record_decision_loses_to_a_flow_that_moved_on(db):
    inst, _action = _new_instance()
    overdue = _overdue(inst['uuid'])
    # The flow cleared its task_state between the read and the decision.
    _set(inst['uuid'], task_state=None, task_deadline_at=None)
    assert deadlines.record_decision(
        overdue, s.ERROR, (500, 'm', None), 'd', 'deadline',
        s.RESULT_ERROR) is None
    assert _row(inst['uuid'])['vm_state'] == s.ACTIVE
    assert instances.latest_fault(inst['uuid']) is None


def test_record_decision_refuses_a_move_no_failure_makes(db):
    inst, _action = _new_instance()
    overdue = _overdue(inst['uuid'])
    with pytest.raises(ValueError):
        deadlines.record_decision(overdue, s.STOPPED, (500, 'm', None),
                                  'd', 'deadline', s.RESULT_ERROR)


def test_concurrent_decisions_exactly_one_wins(db):
    contenders = 4
    for _round in range(3):
        inst, _action = _new_instance()
        overdue = _overdue(inst['uuid'], vm_state=s.BUILDING,
                           task_state=s.SCHEDULING)
        barrier = threading.Barrier(contenders)
        outcomes = []

        def decide(i, overdue=overdue, barrier=barrier,
                   outcomes=outcomes):
            barrier.wait(timeout=30)
            outcomes.append(deadlines.record_decision(
                dict(overdue), s.ERROR, (500, 'fault %d' % i, None),
                'decision %d' % i, 'deadline', s.RESULT_ERROR))

        threads = [threading.Thread(target=decide, args=(i,))
                   for i in range(contenders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive()
        won = [o for o in outcomes if o is not None]
        assert len(won) == 1, outcomes
        with session.reader() as sess:
            faults = sess.execute(sa.select(sa.func.count()).where(
                models.InstanceFault.instance_uuid == inst['uuid'])
            ).scalar_one()
            decided = sess.execute(sa.select(sa.func.count()).where(
                models.InstanceAction.instance_uuid == inst['uuid'],
                models.InstanceAction.action == 'deadline')).scalar_one()
        assert (faults, decided) == (1, 1)
        assert _row(inst['uuid'])['task_id'] == won[0][0]


def test_power_sync_claims_keep_deadlines_too(db, conf):
    conf.set_override('task_deadlines_s', {s.POWERING_OFF: 40},
                      group='conductor')
    inst, _action = _new_instance()
    _set(inst['uuid'], vm_state=s.STOPPED, task_state=None,
         task_deadline_at=None)
    claimed, action = instances.claim_for_sync(
        instances.get(inst['uuid']), s.POWERING_OFF, ACTION_VALUES)
    assert 38 < _seconds_from_now(claimed['task_deadline_at']) <= 40
    assert instances.finish_sync(inst['uuid'], claimed['task_id'],
                                 action['id'], {}, s.RESULT_SUCCESS, 'ok')
    assert _row(inst['uuid'])['task_deadline_at'] is None
