"""Power-state reconciliation through the whole system, over HTTP.

The fake hosts report every 0.3 s (and at once on a lifecycle event); the
tests change guests as the world outside the orchestrator would, through
the fake driver's ``emulate_*`` methods, and watch the servers follow:
each correction one audited ``sync_power_state`` action saying why, none
while a task runs, none at all when reports are disabled.
"""

import time

import pytest

from orchestrator import state_machine as sm
from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import instances

from tests.functional import api_helpers as h
from tests.waiting import wait_for

REPORT_INTERVAL_S = 0.3


@pytest.fixture
def sync_interval_s():
    """``[compute] sync_power_state_interval_s`` of the system under test
    (a test overrides it by parametrizing this name)."""
    return REPORT_INTERVAL_S


@pytest.fixture
def conf(conf, sync_interval_s):
    """The shared ``conf`` with the report interval set before the
    system (``api_system``) starts."""
    conf.set_override('sync_power_state_interval_s', sync_interval_s,
                      group='compute')
    return conf


def _wait_status(system, server_id, status):
    def reached():
        server = h.server(system, server_id)
        if (server['status'] == status
                and server['OS-EXT-STS:task_state'] is None):
            return server
        return None
    return wait_for(reached, timeout=30, what='status %s' % status)


def _host_of(system, server_id):
    for compute in system.computes:
        if server_id in compute.driver.host_state()['guests']:
            return compute
    raise AssertionError('no host has a guest of %s' % server_id)


def _reports(compute):
    return compute.driver.host_state()['calls'].get('list_instances', 0)


def _wait_reports(compute, count=2):
    """Wait until ``compute`` has sent ``count`` more reports."""
    start = _reports(compute)
    wait_for(lambda: _reports(compute) >= start + count, timeout=30,
             what='%d more reports of %s' % (count, compute.host))


def _syncs(system, server_id):
    resp = h.api(system, 'GET',
                '/v2.1/servers/%s/os-instance-actions' % server_id)
    assert resp.status_code == 200, resp.text
    return [a for a in resp.json()['instanceActions']
            if a['action'] == sm.SYNC_POWER_STATE]


def test_a_guest_shut_down_from_inside_is_an_implicit_stop(api_system):
    server_id = h.boot(api_system)
    compute = _host_of(api_system, server_id)
    compute.driver.emulate_guest_power_change(server_id, states.SHUTDOWN)
    server = _wait_status(api_system, server_id, 'SHUTOFF')
    assert server['OS-EXT-STS:vm_state'] == states.STOPPED
    assert server['OS-EXT-STS:power_state'] == states.SHUTDOWN
    _wait_reports(compute)
    [sync] = _syncs(api_system, server_id)
    assert 'guest shutdown on %s while active' % compute.host in (
        sync['message'])
    assert 'implicit stop' in sync['message']
    # The server works from its new state.
    h.act(api_system, server_id, {'os-start': None})
    h.wait_stable(api_system, server_id, 'ACTIVE')


def test_a_vanished_guest_is_an_error_with_a_fault_and_it_sticks(
        api_system):
    server_id = h.boot(api_system)
    compute = _host_of(api_system, server_id)
    compute.driver.emulate_guest_vanished(server_id)
    server = _wait_status(api_system, server_id, 'ERROR')
    assert server['OS-EXT-STS:power_state'] == states.NOSTATE
    assert 'no guest on %s' % compute.host in server['fault']['message']
    # The guest comes back: the server stays in ERROR (only a user action
    # clears it); its power state follows the host.
    compute.driver.emulate_leftover_guest(instances.get(server_id))
    _wait_reports(compute, 3)
    server = h.server(api_system, server_id)
    assert server['status'] == 'ERROR'
    assert server['OS-EXT-STS:power_state'] == states.RUNNING
    assert len(_syncs(api_system, server_id)) == 1


def test_the_guest_of_a_deleted_server_is_destroyed_again(api_system):
    server_id = h.boot(api_system)
    compute = _host_of(api_system, server_id)
    instance = instances.get(server_id)
    resp = h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    assert resp.status_code == 204, resp.text
    wait_for(lambda: h.api(api_system, 'GET', '/v2.1/servers/'
                          + server_id).status_code == 404,
             what='the server to be gone')
    assert server_id not in compute.driver.list_instances()
    compute.driver.emulate_leftover_guest(instance)
    wait_for(lambda: server_id not in compute.driver.list_instances(),
             what='the leftover guest to be destroyed')
    [sync] = wait_for(lambda: _syncs(api_system, server_id),
                      what='the audited destroy')
    assert 'guest running on %s while deleted: destroyed again' % (
        compute.host) in sync['message']
    _wait_reports(compute)
    assert len(_syncs(api_system, server_id)) == 1


def test_a_paused_server_whose_guest_runs_becomes_active(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'pause': None})
    h.wait_stable(api_system, server_id, 'PAUSED')
    compute = _host_of(api_system, server_id)
    compute.driver.emulate_guest_power_change(server_id, states.RUNNING)
    server = _wait_status(api_system, server_id, 'ACTIVE')
    assert server['OS-EXT-STS:power_state'] == states.RUNNING
    [sync] = _syncs(api_system, server_id)
    assert 'while paused: recorded as active' in sync['message']


def test_a_stopped_server_whose_guest_runs_is_powered_off_again(
        api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'SHUTOFF')
    compute = _host_of(api_system, server_id)
    compute.driver.emulate_guest_power_change(server_id, states.RUNNING)
    wait_for(lambda: compute.driver.get_info(server_id) == states.SHUTDOWN,
             what='the guest to be powered off again')
    server = _wait_status(api_system, server_id, 'SHUTOFF')
    assert server['OS-EXT-STS:vm_state'] == states.STOPPED
    [sync] = wait_for(lambda: _syncs(api_system, server_id),
                      what='the audited power off')
    assert 'powered off again' in sync['message']
    assert instances.get(server_id)['power_state'] == states.SHUTDOWN


def test_drift_during_a_task_waits_until_the_task_ends(api_system):
    server_id = h.boot(api_system)
    compute = _host_of(api_system, server_id)
    h.inject(api_system, {'power_off': {'delay_s': 3}})
    h.act(api_system, server_id, {'os-stop': None})
    # The guest vanishes while the stop waits on the host.
    compute.driver.emulate_guest_vanished(server_id)
    _wait_reports(compute)
    server = h.server(api_system, server_id)
    assert server['OS-EXT-STS:task_state'] == states.POWERING_OFF
    assert server['OS-EXT-STS:vm_state'] == states.ACTIVE
    assert _syncs(api_system, server_id) == []
    # The stop fails (no guest), ends its task; the next report decides.
    server = _wait_status(api_system, server_id, 'ERROR')
    [sync] = _syncs(api_system, server_id)
    assert 'no guest on %s while active' % compute.host in sync['message']
    by_name = {a['action']: a for a in actions.list_for_instance(server_id)}
    stop = by_name[sm.STOP]
    assert stop['result'] == states.RESULT_ERROR
    assert by_name[sm.SYNC_POWER_STATE]['start_time'] >= stop['finish_time']


@pytest.mark.parametrize('sync_interval_s', [-1])
def test_a_negative_interval_disables_reports_and_corrections(api_system):
    server_id = h.boot(api_system)
    compute = _host_of(api_system, server_id)
    compute.driver.emulate_guest_power_change(server_id, states.SHUTDOWN)
    time.sleep(5 * REPORT_INTERVAL_S)
    server = h.server(api_system, server_id)
    assert server['status'] == 'ACTIVE'
    assert server['OS-EXT-STS:power_state'] == states.RUNNING
    assert _syncs(api_system, server_id) == []
    assert [_reports(c) for c in api_system.computes] == [0, 0, 0]
