"""The deadline watchdog (orchestrator.conductor.deadlines).

Instances past their task deadline get exactly one recorded decision:
a build goes to error; otherwise the host's answer about the guest
decides between "reverted" (vm_state kept) and error. The host is the
``power_state_of`` callable here; the functional tests ask real fake
hosts.
"""

import datetime
import threading
import uuid

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from orchestrator import states as s
from orchestrator.conductor import deadlines
from orchestrator.db import actions
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

ACTION_VALUES = {'request_id': 'req-test', 'user_id': 'u',
                 'project_id': 'p'}


def _instance(vm_state, task_state, host='host-1', past_s=1.0):
    """A live instance in ``task_state`` whose deadline passed
    ``past_s`` seconds ago (negative: still ahead), with no flow."""
    inst, _action = instances.create(
        {'display_name': 'watchdog-test', 'project_id': 'p',
         'user_id': 'u', 'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image'},
        ACTION_VALUES)
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == inst['uuid']).values(
                vm_state=vm_state, task_state=task_state, host=host,
                task_id=str(uuid.uuid4()),
                task_deadline_at=None if task_state is None else (
                    models.utcnow() - datetime.timedelta(seconds=past_s))))
    return instances.get(inst['uuid'])


class Host:
    """Answers for the guests of the test's hosts; counts the questions.

    ``guests`` maps instance uuid -> power state; a host in ``silent``
    raises, as a host that does not answer.
    """

    def __init__(self, guests=None, silent=()):
        self.guests = guests or {}
        self.silent = set(silent)
        self.asked = []

    def __call__(self, instance):
        self.asked.append(instance['uuid'])
        if instance['host'] in self.silent:
            raise TimeoutError('no answer from %s' % instance['host'])
        return self.guests.get(instance['uuid'])


def _decision_actions(instance_uuid):
    return [a for a in actions.list_for_instance(instance_uuid)
            if a['action'] == deadlines.DEADLINE_ACTION]


@pytest.mark.parametrize('vm_state,power,expected', [
    (s.ACTIVE, s.RUNNING, (s.ACTIVE, True)),
    (s.ACTIVE, s.SHUTDOWN, (s.ERROR, False)),
    (s.ACTIVE, None, (s.ERROR, False)),
    (s.STOPPED, s.SHUTDOWN, (s.STOPPED, True)),
    (s.STOPPED, s.RUNNING, (s.ERROR, False)),
    (s.PAUSED, s.POWER_PAUSED, (s.PAUSED, True)),
    (s.SUSPENDED, s.POWER_SUSPENDED, (s.SUSPENDED, True)),
    (s.SUSPENDED, s.RUNNING, (s.ERROR, False)),
    (s.BUILDING, s.RUNNING, (s.ERROR, False)),
    (s.ERROR, s.RUNNING, (s.ERROR, False)),
])
def test_verdict(vm_state, power, expected):
    assert deadlines.verdict(vm_state, power) == expected


def test_overdue_message():
    assert deadlines.overdue_message('stop', 2.0, s.POWERING_OFF) == (
        'stop passed its deadline of 2 s in task_state powering-off')
    assert deadlines.overdue_message(None, 0.5, s.SPAWNING) == (
        'task passed its deadline of 0.5 s in task_state spawning')


def test_each_overdue_instance_gets_its_decision(db, conf):
    conf.set_override('task_deadlines_s', {s.POWERING_OFF: 2},
                      group='conductor')
    building = _instance(s.BUILDING, s.SPAWNING, host=None)
    agrees = _instance(s.ACTIVE, s.POWERING_OFF)
    disagrees = _instance(s.STOPPED, s.POWERING_ON)
    gone = _instance(s.PAUSED, s.UNPAUSING)
    not_yet = _instance(s.ACTIVE, s.POWERING_OFF, past_s=-60)
    host = Host({agrees['uuid']: s.RUNNING, disagrees['uuid']: s.RUNNING})
    decisions = deadlines.DeadlineWatchdog(conf, host).run_once()
    by_uuid = {d['instance_uuid']: d for d in decisions}
    assert set(by_uuid) == {building['uuid'], agrees['uuid'],
                            disagrees['uuid'], gone['uuid']}
    # The build is decided without asking any host.
    assert building['uuid'] not in host.asked
    expected = {building['uuid']: (s.ERROR, False),
                agrees['uuid']: (s.ACTIVE, True),
                disagrees['uuid']: (s.ERROR, False),
                gone['uuid']: (s.ERROR, False)}
    for instance_uuid, (vm_state, reverted) in expected.items():
        row = instances.get(instance_uuid)
        assert (row['vm_state'], row['task_state'],
                row['task_deadline_at']) == (vm_state, None, None)
        assert by_uuid[instance_uuid]['reverted'] is reverted
        [decided] = _decision_actions(instance_uuid)
        assert decided['result'] == (s.RESULT_SUCCESS if reverted
                                     else s.RESULT_ERROR)
        assert decided['finish_time'] is not None
        assert decided['task_id'] == row['task_id']
    fault = instances.latest_fault(agrees['uuid'])
    assert fault['message'] == ('task passed its deadline of 2 s in '
                                'task_state powering-off')
    assert 'reports the guest running as vm_state active expects' in (
        fault['details'])
    assert 'guest running where vm_state stopped expects' in (
        instances.latest_fault(disagrees['uuid'])['details'])
    assert 'guest missing' in instances.latest_fault(gone['uuid'])[
        'details']
    # The instance still inside its deadline is left alone.
    assert instances.get(not_yet['uuid'])['task_state'] == s.POWERING_OFF
    assert _decision_actions(not_yet['uuid']) == []
    # A second round finds nothing left to decide.
    assert deadlines.DeadlineWatchdog(conf, host).run_once() == []


def test_the_running_action_is_finished_with_the_fault(db, conf):
    inst = _instance(s.ACTIVE, None)
    claimed, stop = instances.claim(inst['uuid'], 'stop', ACTION_VALUES)
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == inst['uuid']).values(
                task_deadline_at=models.utcnow() - datetime.timedelta(
                    seconds=1)))
    deadlines.DeadlineWatchdog(conf, Host(silent={'host-1'})).run_once()
    finished = actions.get(stop['id'])
    assert finished['result'] == s.RESULT_ERROR
    assert finished['message'].startswith('stop passed its deadline of ')
    row = instances.get(inst['uuid'])
    assert row['vm_state'] == s.ERROR
    assert row['task_id'] != claimed['task_id']
    [decided] = _decision_actions(inst['uuid'])
    assert 'host host-1 did not answer (TimeoutError)' in decided['message']


def test_a_silent_host_is_asked_once_per_round(db, conf):
    first = _instance(s.ACTIVE, s.POWERING_OFF, host='down-host')
    second = _instance(s.ACTIVE, s.PAUSING, host='down-host')
    host = Host(silent={'down-host'})
    decisions = deadlines.DeadlineWatchdog(conf, host).run_once()
    assert len(decisions) == 2
    assert len(host.asked) == 1
    for inst in (first, second):
        assert instances.get(inst['uuid'])['vm_state'] == s.ERROR


def test_a_task_state_without_deadline_gets_one_then_a_decision(db, conf):
    inst = _instance(s.ACTIVE, s.POWERING_OFF)
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == inst['uuid']).values(
                task_deadline_at=None))
    watchdog = deadlines.DeadlineWatchdog(conf, Host())
    assert watchdog.run_once() == []
    assert instances.get(inst['uuid'])['task_deadline_at'] is not None


def test_racing_watchdogs_decide_each_instance_once(db, conf):
    overdue = [_instance(s.BUILDING, s.SCHEDULING, host=None)
               for _ in range(6)]
    overdue += [_instance(s.ACTIVE, s.POWERING_OFF) for _ in range(4)]
    host = Host({i['uuid']: s.RUNNING for i in overdue})
    barrier = threading.Barrier(3)
    results = []

    def watch():
        watchdog = deadlines.DeadlineWatchdog(conf, host)
        barrier.wait(timeout=30)
        results.append(watchdog.run_once())

    threads = [threading.Thread(target=watch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive()
    decided = [d['instance_uuid'] for r in results for d in r]
    assert sorted(decided) == sorted(i['uuid'] for i in overdue)
    for inst in overdue:
        assert len(_decision_actions(inst['uuid'])) == 1
        with session.reader() as sess:
            faults = sess.execute(sa.select(sa.func.count()).where(
                models.InstanceFault.instance_uuid == inst['uuid'])
            ).scalar_one()
        assert faults == 1
        row = instances.get(inst['uuid'])
        assert row['task_state'] is None
        assert row['vm_state'] == (s.ERROR if inst['vm_state'] == s.BUILDING
                                   else s.ACTIVE)


def test_a_bad_deadline_option_stops_the_watchdog_at_start(conf,
                                                           tmp_path):
    path = tmp_path / 'orchestrator.conf'
    path.write_text('[conductor]\ntask_deadlines_s = spawnin:5\n')
    conf(['--config-file', str(path)], project='orchestrator',
         default_config_files=[], default_config_dirs=[])
    with pytest.raises(cfg.ConfigFileValueError) as info:
        deadlines.DeadlineWatchdog(conf, Host())
    assert 'unknown task_state(s) spawnin' in str(info.value)
