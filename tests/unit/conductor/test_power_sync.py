"""Power-state reconciliation: the rule table, and one report applied to a
real database through a real compute host (fake driver, in-memory
transport).

The expected corrections below are written out again, independently of
orchestrator.conductor.power_sync.RULES, so that a changed rule fails
here until the oracle is changed on purpose too.
"""

import uuid

import pytest
import sqlalchemy as sa

from orchestrator import rpc
from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_faults
from orchestrator.compute import service as compute_service
from orchestrator.conductor import power_sync as ps
from orchestrator.db import actions
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session

HOST = 'sync-host'
OTHER_HOST = 'sync-other-host'
OBSERVED = sorted(s.POWER_STATES) + [None]
OFF = (s.SHUTDOWN, s.CRASHED)
NOT_OFF = (s.RUNNING, s.POWER_PAUSED, s.POWER_SUSPENDED)


def _oracle(vm_state, observed):
    """(kind, target vm_state) expected with no task running, or None."""
    if vm_state == s.DELETED:
        return None if observed is None else (ps.DESTROY, None)
    if observed is None:
        if vm_state in (s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED,
                        s.RESCUED, s.RESIZED):
            return (ps.SET_VM_STATE, s.ERROR)
        return None
    if vm_state == s.ACTIVE:
        return {s.SHUTDOWN: (ps.SET_VM_STATE, s.STOPPED),
                s.CRASHED: (ps.SET_VM_STATE, s.STOPPED),
                s.POWER_PAUSED: (ps.SET_VM_STATE, s.PAUSED),
                s.POWER_SUSPENDED: (ps.SET_VM_STATE, s.SUSPENDED),
                }.get(observed)
    if vm_state == s.PAUSED:
        if observed == s.RUNNING:
            return (ps.SET_VM_STATE, s.ACTIVE)
        return (ps.SET_VM_STATE, s.STOPPED) if observed in OFF else None
    if vm_state == s.SUSPENDED:
        return (ps.SET_VM_STATE, s.ACTIVE) if observed == s.RUNNING else None
    if vm_state in (s.STOPPED, s.SOFT_DELETED, s.SHELVED):
        return (ps.POWER_OFF, None) if observed in NOT_OFF else None
    return None


@pytest.mark.parametrize('vm_state', sorted(s.VM_STATES))
@pytest.mark.parametrize('observed', OBSERVED)
def test_decide_with_no_task_follows_the_table(vm_state, observed):
    rule = ps.decide(vm_state, None, observed)
    got = None if rule is None else (rule.kind, rule.vm_state)
    assert got == _oracle(vm_state, observed)


@pytest.mark.parametrize('vm_state', sorted(s.VM_STATES))
@pytest.mark.parametrize('observed', OBSERVED)
def test_decide_never_touches_an_instance_with_a_task(vm_state, observed):
    for task_state in s.TASK_STATES:
        assert ps.decide(vm_state, task_state, observed) is None


@pytest.mark.parametrize('observed', OBSERVED)
def test_error_is_never_cleared(observed):
    assert ps.decide(s.ERROR, None, observed) is None


def test_only_a_vanished_guest_records_a_fault():
    for (vm_state, observed), rule in ps.RULES.items():
        assert rule.fault == (observed is None), (vm_state, observed)


def test_rules_and_the_state_machine_name_the_same_edges():
    from_rules = {(vm, rule.vm_state) for (vm, _p), rule in ps.RULES.items()
                  if rule.kind == ps.SET_VM_STATE}
    from_machine = {(src, dst) for src, dst, event in sm.EXTRA_EDGES
                    if event == sm.SYNC_POWER_STATE}
    assert from_rules == from_machine


def test_describe_says_what_was_seen_where_and_what_was_done():
    rule = ps.decide(s.ACTIVE, None, s.SHUTDOWN)
    assert ps.describe(rule, s.ACTIVE, s.SHUTDOWN, 'h1') == (
        'Power-state sync: guest shutdown on h1 while active: recorded as '
        'stopped (an implicit stop)')
    rule = ps.decide(s.ACTIVE, None, None)
    assert 'no guest on h1 while active' in ps.describe(rule, s.ACTIVE,
                                                        None, 'h1')


# -- one report applied ---------------------------------------------------
@pytest.fixture
def host(conf, db, tmp_path):
    """A real compute host on the in-memory transport (its own reports
    are off: the tests hand apply_report the reports themselves)."""
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    conf.set_override('sync_power_state_interval_s', -1, group='compute')
    rpc.init(conf)
    host_name = '%s-%s' % (HOST, uuid.uuid4().hex[:8])
    driver = fake.FakeDriver(host_name, conf,
                             state_dir=str(tmp_path / 'fake-hosts'))
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    yield service
    service.stop()
    rpc.cleanup()


def _instance(host_name, vm_state, task_state=None, power=s.RUNNING,
              guest=True, driver=None):
    """A row in (vm_state, task_state) on ``host_name``; with a guest of
    power state ``power`` on ``driver`` if ``guest``. With no task, its
    creation's action is finished (its task ended)."""
    inst, action = instances.create(
        {'display_name': 'sync', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1', 'flavor': {'flavorid': '1'}, 'vcpus': 1,
         'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image-1'},
        {'request_id': 'req-create', 'user_id': 'u', 'project_id': 'p'})
    values = {'vm_state': vm_state, 'task_state': task_state,
              'host': host_name, 'power_state': power}
    if vm_state == s.DELETED:
        values['deleted'] = 1
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == inst['uuid']).values(**values))
    if task_state is None:
        actions.finish(action['id'], s.RESULT_SUCCESS)
    if guest:
        driver.emulate_leftover_guest(instances.get(
            inst['uuid'], read_deleted=True), power)
    return inst['uuid']


def _syncs(instance_uuid):
    return [a for a in actions.list_for_instance(instance_uuid)
            if a['action'] == sm.SYNC_POWER_STATE]


def test_an_active_instance_shut_down_from_inside_is_stopped(host):
    uuid_ = _instance(host.host, s.ACTIVE, driver=host.driver)
    host.driver.emulate_guest_power_change(uuid_, s.SHUTDOWN)
    done = ps.apply_report(host.host, host.driver.list_instances())
    assert done[uuid_].vm_state == s.STOPPED
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['task_state'], inst['power_state']) == (
        s.STOPPED, None, s.SHUTDOWN)
    [action] = _syncs(uuid_)
    assert action['result'] == s.RESULT_SUCCESS
    assert action['finish_time'] is not None
    assert action['task_id'] == inst['task_id']
    assert 'implicit stop' in action['message']
    assert instances.latest_fault(uuid_) is None
    # The same report again finds nothing left to correct.
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    assert len(_syncs(uuid_)) == 1


def test_a_task_ended_but_its_action_open_is_left_to_the_next_report(
        host):
    uuid_ = _instance(host.host, s.ACTIVE, driver=host.driver)
    # A stop just cleared its task_state; its flow finishes its action a
    # moment later.
    stop = actions.start(uuid_, sm.STOP, 'req-stop')
    host.driver.emulate_guest_vanished(uuid_)
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    assert instances.get(uuid_)['vm_state'] == s.ACTIVE
    assert _syncs(uuid_) == []
    actions.finish(stop['id'], s.RESULT_ERROR, 'no guest')
    done = ps.apply_report(host.host, host.driver.list_instances())
    assert done[uuid_].vm_state == s.ERROR
    [sync] = _syncs(uuid_)
    assert sync['start_time'] >= actions.get(stop['id'])['finish_time']


def test_a_stale_report_is_confirmed_with_the_host_and_changes_nothing(
        host):
    # The report says shut down, but the guest runs again by the time the
    # conductor asks (a start finished in between).
    uuid_ = _instance(host.host, s.ACTIVE, driver=host.driver)
    assert ps.apply_report(host.host, {uuid_: s.SHUTDOWN}) == {}
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['power_state']) == (s.ACTIVE, s.RUNNING)
    assert _syncs(uuid_) == []


def test_a_vanished_guest_sets_error_with_a_fault_and_error_sticks(host):
    uuid_ = _instance(host.host, s.ACTIVE, driver=host.driver)
    host.driver.emulate_guest_vanished(uuid_)
    ps.apply_report(host.host, host.driver.list_instances())
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['power_state']) == (s.ERROR, s.NOSTATE)
    fault = instances.latest_fault(uuid_)
    assert fault['code'] == ps.VANISHED_FAULT_CODE
    assert 'no guest on %s' % host.host in fault['message']
    # The guest comes back: only the power_state column follows.
    host.driver.emulate_leftover_guest(inst, s.RUNNING)
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['power_state']) == (s.ERROR, s.RUNNING)
    assert len(_syncs(uuid_)) == 1


def test_a_stopped_instance_whose_guest_runs_is_powered_off_again(host):
    uuid_ = _instance(host.host, s.STOPPED, power=s.RUNNING,
                      driver=host.driver)
    before = instances.get(uuid_)
    ps.apply_report(host.host, host.driver.list_instances())
    assert host.driver.get_info(uuid_) == s.SHUTDOWN
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['task_state'], inst['power_state']) == (
        s.STOPPED, None, s.SHUTDOWN)
    assert inst['task_id'] != before['task_id']
    [action] = _syncs(uuid_)
    assert action['task_id'] == inst['task_id']
    assert action['result'] == s.RESULT_SUCCESS
    assert 'powered off again' in action['message']


def test_a_failed_power_off_is_recorded_and_leaves_the_task_ended(host):
    uuid_ = _instance(host.host, s.STOPPED, power=s.RUNNING,
                      driver=host.driver)
    fake_faults.write_runtime_faults(host.driver.state_dir, host.host,
                                     {'power_off': 'raise'})
    ps.apply_report(host.host, host.driver.list_instances())
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['task_state']) == (s.STOPPED, None)
    [action] = _syncs(uuid_)
    assert action['result'] == s.RESULT_ERROR
    assert 'failed' in action['message']


def test_a_correction_loses_to_a_task_that_claimed_after_the_read(host):
    uuid_ = _instance(host.host, s.ACTIVE, power=s.SHUTDOWN,
                      driver=host.driver)
    read = instances.get(uuid_)
    instances.claim(uuid_, sm.STOP,
                    {'request_id': 'req-user'})
    assert instances.sync_vm_state(read, s.STOPPED, s.SHUTDOWN, 'why',
                                   {'request_id': 'req-sync'}) is None
    assert instances.claim_for_sync(read, s.POWERING_OFF,
                                    {'request_id': 'req-sync'}) is None
    assert instances.refresh_power_state(read, s.CRASHED) is False
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['task_state'], inst['power_state']) == (
        s.ACTIVE, s.POWERING_OFF, s.SHUTDOWN)
    assert _syncs(uuid_) == []


def test_an_instance_with_a_task_is_skipped_entirely(host):
    uuid_ = _instance(host.host, s.ACTIVE, task_state=s.PAUSING,
                      power=s.RUNNING, driver=host.driver)
    host.driver.emulate_guest_vanished(uuid_)
    calls = host.driver.host_state()['calls'].get('get_info', 0)
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['task_state'], inst['power_state']) == (
        s.ACTIVE, s.PAUSING, s.RUNNING)
    assert host.driver.host_state()['calls'].get('get_info', 0) == calls


def test_the_guest_of_a_deleted_instance_is_destroyed_again(host):
    uuid_ = _instance(host.host, s.DELETED, power=s.RUNNING,
                      driver=host.driver)
    done = ps.apply_report(host.host, host.driver.list_instances())
    assert done[uuid_].kind == ps.DESTROY
    assert host.driver.list_instances() == {}
    [action] = _syncs(uuid_)
    assert action['result'] == s.RESULT_SUCCESS
    assert 'destroyed again' in action['message']
    # A report from before the destroy destroys nothing and audits nothing.
    ps.apply_report(host.host, {uuid_: s.RUNNING})
    assert len(_syncs(uuid_)) == 1


def test_a_guest_of_no_instance_is_left_alone(host):
    nobody = {'uuid': str(uuid.uuid4()), 'image_ref': 'image-1'}
    host.driver.emulate_leftover_guest(nobody)
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    assert set(host.driver.list_instances()) == {nobody['uuid']}


def test_a_leftover_of_an_instance_living_elsewhere_is_destroyed(host):
    # A rollback that could not reach this host (it was down) left the
    # guest; the instance lives elsewhere and nothing accounts for it.
    elsewhere = _instance(OTHER_HOST, s.ACTIVE, guest=False)
    host.driver.emulate_leftover_guest(instances.get(elsewhere))
    ps.apply_report(host.host, host.driver.list_instances())
    assert host.driver.list_instances() == {}
    [action] = _syncs(elsewhere)
    assert 'leftover guest on %s destroyed' % host.host in action['message']
    assert instances.get(elsewhere)['vm_state'] == s.ACTIVE


def test_a_guest_a_task_or_a_migration_accounts_for_is_left_alone(host):
    busy = _instance(OTHER_HOST, s.ACTIVE, task_state=s.MIGRATING,
                     guest=False)
    host.driver.emulate_leftover_guest(instances.get(busy))
    waiting = _instance(OTHER_HOST, s.RESIZED, guest=False)
    host.driver.emulate_leftover_guest(instances.get(waiting))
    migration_records.create(waiting, 'resize', s.MIGRATION_FINISHED,
                             host.host, OTHER_HOST)
    ps.apply_report(host.host, host.driver.list_instances())
    assert set(host.driver.list_instances()) == {busy, waiting}
    assert _syncs(busy) == [] and _syncs(waiting) == []


def test_only_the_power_state_column_follows_when_no_rule_applies(host):
    uuid_ = _instance(host.host, s.SUSPENDED, power=s.POWER_SUSPENDED,
                      driver=host.driver)
    host.driver.emulate_guest_power_change(uuid_, s.SHUTDOWN)
    assert ps.apply_report(host.host, host.driver.list_instances()) == {}
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['power_state']) == (s.SUSPENDED,
                                                       s.SHUTDOWN)
    assert _syncs(uuid_) == []


def test_sync_vm_state_refuses_a_change_that_is_not_an_edge(db):
    inst, _action = instances.create(
        {'display_name': 'x', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1', 'flavor': {}, 'vcpus': 1, 'memory_mb': 1,
         'root_gb': 1}, {'request_id': 'req'})
    with pytest.raises(ValueError, match='may not move'):
        instances.sync_vm_state(inst, s.ACTIVE, s.RUNNING, 'why',
                                {'request_id': 'req-sync'})


def test_a_correction_finished_late_keeps_an_earlier_decision(host):
    # The conductor stalled after its claim; an administrator's reset (or
    # the deadline watchdog) took the instance and ended the action first.
    uuid_ = _instance(host.host, s.STOPPED, power=s.RUNNING,
                      driver=host.driver)
    claimed, action = instances.claim_for_sync(
        instances.get(uuid_), s.POWERING_OFF, {'request_id': 'req-sync'})
    assert claimed['task_deadline_at'] is not None
    instances.reset_state(uuid_, s.ERROR, {'request_id': 'req-reset'})
    actions.finish(action['id'], s.RESULT_ERROR, 'decided first')
    assert instances.finish_sync(uuid_, claimed['task_id'], action['id'],
                                 {'power_state': s.SHUTDOWN},
                                 s.RESULT_SUCCESS, 'powered off') is False
    [sync] = _syncs(uuid_)
    assert (sync['result'], sync['message']) == (s.RESULT_ERROR,
                                                 'decided first')
    inst = instances.get(uuid_)
    assert (inst['vm_state'], inst['power_state']) == (s.ERROR, s.RUNNING)
