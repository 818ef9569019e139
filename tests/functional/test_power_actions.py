"""Single-host power actions over HTTP: stop, start, pause, unpause,
suspend, resume.

Each is claimed by the API from the allowed-actions table and run as a
flow: the guest on the host changes, the server's status and vm_state
follow, one action with one event per step is audited. A failure on the
host leaves vm_state as it was with a fault; an action the table forbids
is refused with 409 before anything runs.
"""

import pytest
import requests
import sqlalchemy as sa

from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import server_actions
from orchestrator.compute.drivers import fake_faults
from orchestrator.db import actions
from orchestrator.db import catalog
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

from tests.waiting import wait_for

HEADERS = {'OpenStack-API-Version': 'compute 2.47'}

#: body key, expected status after, expected vm_state, guest power state
SEQUENCE = [
    ('os-stop', 'SHUTOFF', states.STOPPED, states.SHUTDOWN),
    ('os-start', 'ACTIVE', states.ACTIVE, states.RUNNING),
    ('pause', 'PAUSED', states.PAUSED, states.POWER_PAUSED),
    ('unpause', 'ACTIVE', states.ACTIVE, states.RUNNING),
    ('suspend', 'SUSPENDED', states.SUSPENDED, states.POWER_SUSPENDED),
    ('resume', 'ACTIVE', states.ACTIVE, states.RUNNING),
]


def _api(system, method, path, **kwargs):
    return requests.request(method, system.url + path, headers=HEADERS,
                            timeout=30, **kwargs)


def _boot(system, name='vm'):
    flavor = _api(system, 'GET', '/v2.1/flavors').json()['flavors'][0]
    image = _api(system, 'GET', '/image/v2/images').json()['images'][0]
    resp = _api(system, 'POST', '/v2.1/servers', json={'server': {
        'name': name, 'flavorRef': flavor['id'], 'imageRef': image['id'],
        'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    _wait_stable(system, server_id, 'ACTIVE')
    return server_id


def _wait_stable(system, server_id, status):
    def stable():
        server = _api(system, 'GET', '/v2.1/servers/' + server_id).json()[
            'server']
        if server['OS-EXT-STS:task_state'] is None:
            return server
        return None
    server = wait_for(stable, timeout=60, what='task to end')
    assert server['status'] == status, server
    return server


def _guest_power(system, server_id):
    for compute in system.computes:
        guest = compute.driver.host_state()['guests'].get(server_id)
        if guest is not None:
            return guest['power_state']
    return None


def _inject(system, faults):
    for compute in system.computes:
        fake_faults.write_runtime_faults(compute.driver.state_dir,
                                         compute.host, faults)


def test_every_power_action_moves_guest_and_state(api_system):
    server_id = _boot(api_system)
    for key, status, vm_state, power in SEQUENCE:
        resp = _api(api_system, 'POST',
                    '/v2.1/servers/%s/action' % server_id, json={key: None})
        assert resp.status_code == 202, (key, resp.text)
        server = _wait_stable(api_system, server_id, status)
        assert server['OS-EXT-STS:vm_state'] == vm_state, key
        assert server['OS-EXT-STS:power_state'] == power, key
        assert _guest_power(api_system, server_id) == power, key
    # One audited action per request, each with one event per step.
    def all_finished():
        found = actions.list_for_instance(server_id)
        if len(found) == 1 + len(SEQUENCE) and all(
                a['finish_time'] for a in found):
            return found
        return None

    done = wait_for(all_finished, what='every action to finish')
    names = [a['action'] for a in reversed(done)]
    assert names == ['create'] + [server_actions.POWER_ACTIONS[k]
                                  for k, *_ in SEQUENCE]
    for action in done[:-1]:
        assert action['result'] == states.RESULT_SUCCESS
        events = [e['event'] for e in actions.events_for(action['id'])]
        assert events == ['ClearTaskOnRevert', 'ChangePowerOnHost',
                          'FinishPowerAction'], action['action']


#: prepare (body key or None), action body key, its host operation, the
#: status the server has before it (and keeps when the action fails).
FAILING_ACTIONS = [
    (None, 'os-stop', 'power_off', 'ACTIVE'),
    ('os-stop', 'os-start', 'power_on', 'SHUTOFF'),
    (None, 'pause', 'pause', 'ACTIVE'),
    ('pause', 'unpause', 'unpause', 'PAUSED'),
    (None, 'suspend', 'suspend', 'ACTIVE'),
    ('suspend', 'resume', 'resume', 'SUSPENDED'),
]


@pytest.mark.parametrize('when', ['before', 'after'])
@pytest.mark.parametrize('prepare,key,operation,status', FAILING_ACTIONS)
def test_host_failure_leaves_state_as_it_was_with_a_fault(
        api_system, prepare, key, operation, status, when):
    server_id = _boot(api_system)
    if prepare:
        _api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
             json={prepare: None})
        _wait_stable(api_system, server_id, status)
    power_before = _guest_power(api_system, server_id)
    # 'after': the host changes the guest, then fails; the revert must
    # put the guest back all the same.
    _inject(api_system, {operation: {'fault': 'raise', 'when': when}})
    resp = _api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={key: None})
    assert resp.status_code == 202
    action = wait_for(lambda: [a for a in actions.list_for_instance(
        server_id) if a['finish_time'] and a['action'] ==
        server_actions.POWER_ACTIONS[key]], what='the action to finish')[0]
    assert action['result'] == states.RESULT_ERROR
    server = _wait_stable(api_system, server_id, status)
    assert _guest_power(api_system, server_id) == power_before
    assert server['OS-EXT-STS:power_state'] == power_before
    fault = instances.latest_fault(server_id)
    assert 'Injected fault in %s' % operation in fault['message']
    events = {e['event']: e['result']
              for e in actions.events_for(action['id'])}
    assert events['ChangePowerOnHost'] == states.RESULT_ERROR
    assert events['ChangePowerOnHost:revert'] == states.RESULT_SUCCESS
    assert events['ClearTaskOnRevert:revert'] == states.RESULT_SUCCESS
    # The server works again once the host does.
    _inject(api_system, {})
    resp = _api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={key: None})
    assert resp.status_code == 202


@pytest.mark.parametrize('kind,operation', [('SOFT', 'reboot'),
                                            ('HARD', 'reboot_hard')])
def test_reboot_failure_keeps_active_with_a_fault(api_system, kind,
                                                  operation):
    server_id = _boot(api_system)
    # A soft reboot that fails escalates to hard: make both fail.
    _inject(api_system, {'reboot': 'raise', 'reboot_hard': 'raise'})
    _reboot(api_system, server_id, kind)
    _wait_stable(api_system, server_id, 'ACTIVE')
    fault = wait_for(lambda: instances.latest_fault(server_id),
                     what='the fault')
    assert 'Injected fault in reboot_hard' in fault['message']
    assert _calls(api_system, 'reboot') == (1 if kind == 'SOFT' else 0)


def test_delete_preempting_a_slow_stop_wins_and_leaves_nothing(api_system):
    # The stop's host step is slow; a delete preempts it meanwhile, so the
    # stop's final write finds the claim gone: the stop reverts without
    # touching the guest (it is the delete's now), the delete wins and
    # nothing is left behind.
    server_id = _boot(api_system)
    _inject(api_system, {'power_off': {'delay_s': 1.5}})
    assert _api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None}).status_code == 202
    wait_for(lambda: sum(c.driver.host_state()['calls'].get('power_off', 0)
                         for c in api_system.computes) >= 1,
             what='power_off to start')
    assert _api(api_system, 'DELETE',
                '/v2.1/servers/' + server_id).status_code == 204
    wait_for(lambda: _api(api_system, 'GET', '/v2.1/servers/' + server_id)
             .status_code == 404, timeout=60, what='the delete')
    assert _guest_power(api_system, server_id) is None
    stop = wait_for(lambda: [a for a in actions.list_for_instance(server_id)
                             if a['action'] == 'stop' and a['finish_time']],
                    timeout=30, what='the stop to end')[0]
    assert stop['result'] == states.RESULT_ERROR
    events = {e['event']: e for e in actions.events_for(stop['id'])}
    # Its rollback itself succeeded: nothing failed while undoing.
    assert events['ChangePowerOnHost:revert']['result'] == \
        states.RESULT_SUCCESS
    assert _calls(api_system, 'power_on') == 0


#: Every claimed single-host action: (request body, action name). The
#: image of a rebuild is filled in by the test (a seeded image's id).
CLAIMED_ACTIONS = [({key: None}, name) for key, name in sorted(
    server_actions.POWER_ACTIONS.items())] + [
    ({'reboot': {'type': 'SOFT'}}, state_machine.REBOOT_SOFT),
    ({'reboot': {'type': 'HARD'}}, state_machine.REBOOT_HARD),
    ({'rescue': None}, state_machine.RESCUE),
    ({'unrescue': None}, state_machine.UNRESCUE),
    ({'rebuild': {'imageRef': None}}, state_machine.REBUILD),
    ({'createImage': {'name': 'snap'}}, state_machine.SNAPSHOT),
    ({'createBackup': {'name': 'b', 'backup_type': 'daily',
                       'rotation': 1}}, state_machine.BACKUP),
    ({'changePassword': {'adminPass': 'n3w-pass'}},
     state_machine.CHANGE_PASSWORD),
    ({'trigger_crash_dump': None}, state_machine.TRIGGER_CRASH_DUMP),
    ({'restore': None}, state_machine.RESTORE),
    ({'shelve': None}, state_machine.SHELVE),
    ({'unshelve': None}, state_machine.UNSHELVE)]

#: One request, two actions: {"unshelve": null} is unshelve_on_host for a
#: server still on its host (shelved), unshelve for any other.
def _claimed_action(name, vm_state):
    if name == state_machine.UNSHELVE and vm_state == states.SHELVED:
        return state_machine.UNSHELVE_ON_HOST
    return name


def test_every_claimed_action_of_the_table_is_covered():
    # A new claimed single-host action must be added to the 409 test.
    single_host = {name for name, rules in state_machine.ACTIONS.items()
                   if rules.task_state is not None and not rules.admin_only
                   and name not in (state_machine.BOOT, state_machine.DELETE,
                                    state_machine.SOFT_DELETE,
                                    state_machine.RESIZE,
                                    state_machine.CONFIRM_RESIZE,
                                    state_machine.REVERT_RESIZE)}
    covered = {name for _body, name in CLAIMED_ACTIONS}
    covered |= {_claimed_action(name, states.SHELVED) for name in covered}
    assert single_host == covered


def _forbidden_pairs(image_id):
    """(body, action, vm_state, task_state) the table forbids, from the
    table itself: every vm_state, with no task and with two tasks."""
    for body, name in CLAIMED_ACTIONS:
        if 'rebuild' in body:
            body = {'rebuild': {'imageRef': image_id}}
        for vm_state in sorted(states.VM_STATES - {states.DELETED}):
            claimed = _claimed_action(name, vm_state)
            rules = state_machine.ACTIONS[claimed]
            for task_state in (None, states.REBOOTING, states.DELETING):
                if not rules.allows(vm_state, task_state):
                    yield body, claimed, vm_state, task_state


def test_forbidden_states_are_409_with_the_reason(api_system):
    image_id = catalog.image_list(name='cirros-0.6.2')[0]['id']
    cases = list(_forbidden_pairs(image_id))
    assert len(cases) > 100
    images_before = len(catalog.image_list())
    planted = []
    for body, name, vm_state, task_state in cases:
        inst, _act = instances.create(
            dict(display_name='x', project_id='default', user_id='admin',
                 flavor_id='1', flavor={}, vcpus=1, memory_mb=512,
                 root_gb=1), dict(request_id='req-setup'))
        planted.append(inst['uuid'])
        with session.writer() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == inst['uuid']).values(
                    vm_state=vm_state, task_state=task_state,
                    # A guest that runs: the state is what refuses.
                    power_state=states.RUNNING))
        resp = _api(api_system, 'POST',
                    '/v2.1/servers/%s/action' % inst['uuid'], json=body)
        assert resp.status_code == 409, (name, vm_state, task_state)
        message = resp.json()['conflictingRequest']['message']
        rules = state_machine.ACTIONS[name]
        reason = (vm_state if vm_state not in rules.vm_states
                  else task_state)
        assert 'state %s' % reason in message, (name, message)
        after = instances.get(inst['uuid'])
        assert (after['vm_state'], after['task_state']) == (vm_state,
                                                            task_state)
    # A refused createImage made no image.
    assert len(catalog.image_list()) == images_before
    # NOTE: no flow runs for the planted task states: cleared here, or
    # the teardown would wait its whole settle time (20 s) for them.
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid.in_(planted)).values(task_state=None))


def _poll_statuses(system, server_id, until_status, timeout=60):
    """Distinct statuses seen, polling until a stable ``until_status``."""
    seen = []

    def done():
        server = _api(system, 'GET', '/v2.1/servers/' + server_id).json()[
            'server']
        if not seen or seen[-1] != server['status']:
            seen.append(server['status'])
        return (server['status'] == until_status
                and server['OS-EXT-STS:task_state'] is None)

    wait_for(done, timeout=timeout, interval=0.02, what=until_status)
    return seen


def _reboot(system, server_id, kind):
    resp = _api(system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'reboot': {'type': kind}})
    assert resp.status_code == 202, resp.text


def _calls(system, method):
    return sum(c.driver.host_state()['calls'].get(method, 0)
               for c in system.computes)


def test_soft_and_hard_reboot_status_sequences(api_system):
    server_id = _boot(api_system)
    _inject(api_system, {'reboot': {'delay_s': 0.5},
                         'reboot_hard': {'delay_s': 0.5}})
    _reboot(api_system, server_id, 'SOFT')
    assert _poll_statuses(api_system, server_id, 'ACTIVE') == [
        'REBOOT', 'ACTIVE']
    _reboot(api_system, server_id, 'HARD')
    assert _poll_statuses(api_system, server_id, 'ACTIVE') == [
        'HARD_REBOOT', 'ACTIVE']
    assert (_calls(api_system, 'reboot'), _calls(api_system,
                                                 'reboot_hard')) == (1, 1)
    # A hard reboot also brings a stopped server up.
    _inject(api_system, {})
    assert _api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None}).status_code == 202
    _wait_stable(api_system, server_id, 'SHUTOFF')
    _reboot(api_system, server_id, 'HARD')
    _wait_stable(api_system, server_id, 'ACTIVE')
    assert _guest_power(api_system, server_id) == states.RUNNING


def test_soft_reboot_that_hangs_becomes_hard(api_system, conf):
    conf.set_override('soft_reboot_timeout_s', 1.0, group='conductor')
    server_id = _boot(api_system)
    # The hard reboot takes a moment, so that polls see HARD_REBOOT.
    _inject(api_system, {'reboot': 'hang',
                         'reboot_hard': {'delay_s': 0.3}})
    _reboot(api_system, server_id, 'SOFT')
    assert _poll_statuses(api_system, server_id, 'ACTIVE') == [
        'REBOOT', 'HARD_REBOOT', 'ACTIVE']
    assert _calls(api_system, 'reboot_hard') == 1
    assert _guest_power(api_system, server_id) == states.RUNNING


#: body key, host operation, status after, the task_state shown meanwhile
STATUS_SEQUENCES = [
    ('os-stop', 'power_off', 'SHUTOFF', states.POWERING_OFF),
    ('os-start', 'power_on', 'ACTIVE', states.POWERING_ON),
    ('pause', 'pause', 'PAUSED', states.PAUSING),
    ('unpause', 'unpause', 'ACTIVE', states.UNPAUSING),
    ('suspend', 'suspend', 'SUSPENDED', states.SUSPENDING),
    ('resume', 'resume', 'ACTIVE', states.RESUMING),
]


def test_each_action_shows_only_the_statuses_it_passes_through(api_system):
    server_id = _boot(api_system)
    _inject(api_system, {op: {'delay_s': 0.6}
                         for _key, op, _status, _task in STATUS_SEQUENCES})
    before = 'ACTIVE'
    for key, _op, status, task_state in STATUS_SEQUENCES:
        assert _api(api_system, 'POST',
                    '/v2.1/servers/%s/action' % server_id,
                    json={key: None}).status_code == 202
        seen = _status_pairs_until(api_system, server_id, status)
        # While it runs: the old status with the action's task_state
        # visible; then the new status. Nothing else, ever.
        assert seen[-1] == (status, None), (key, seen)
        assert set(seen[:-1]) <= {(before, task_state)}, (key, seen)
        assert (before, task_state) in seen, (key, seen)
        before = status


def _status_pairs_until(system, server_id, status):
    """Distinct (status, task_state) pairs seen until (status, None)."""
    seen = []

    def record():
        server = _api(system, 'GET', '/v2.1/servers/' + server_id).json()[
            'server']
        pair = (server['status'], server['OS-EXT-STS:task_state'])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return pair == (status, None)

    wait_for(record, timeout=30, interval=0.02, what=status)
    return seen
