"""Evacuation over HTTP on the all-in-one: a server whose host is down
(its compute service stopped, heartbeat older than ``service_down_time_s``)
is rebuilt on another host; the migration waits in ``done`` until the
source is back, when a conductor periodic destroys the leftover guest
there and completes it. A failure at every host step is rolled back.

Every test ends with the invariant (:mod:`tests.functional.invariants`).
"""

import time

import pytest

from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

from tests.functional import api_helpers as h
from tests.functional import invariants
from tests.functional import systems
from tests.waiting import wait_for

DOWN_TIME_S = 2


@pytest.fixture
def evac_system(conf, tmp_path):
    """An all-in-one serving HTTP whose hosts are down 2 s after their
    last heartbeat and whose conductor completes evacuations every
    0.3 s; the invariant is checked before it stops."""
    conf.set_override('service_down_time_s', DOWN_TIME_S)
    conf.set_override('evacuation_check_interval_s', 0.3, group='conductor')
    node = systems.start_all_in_one(conf, tmp_path, serve_api=True)
    yield node
    invariants.check_system(node)
    node.stop()


def _compute(system, host):
    return next(c for c in system.computes if c.host == host)


def _is_up(host):
    service = hosts.list_services(binary=host_selection.COMPUTE_BINARY,
                                  host=host)[0]
    return hosts.is_up(service, DOWN_TIME_S)


def _host_down(system, host):
    _compute(system, host).stop()
    wait_for(lambda: not _is_up(host), timeout=DOWN_TIME_S + 10,
             what='%s down' % host)


def _host_back(system, host):
    _compute(system, host).start()
    wait_for(lambda: _is_up(host), timeout=10, what='%s up' % host)


def _boot_on_a_dead_host(system, status='ACTIVE'):
    """A server (stopped first for SHUTOFF), then its host goes down.
    Returns (server id, its host)."""
    server_id = h.boot(system)
    if status == 'SHUTOFF':
        h.act(system, server_id, {'os-stop': None})
        h.wait_stable(system, server_id, 'SHUTOFF')
    source = h.server(system, server_id)['OS-EXT-SRV-ATTR:host']
    _host_down(system, source)
    return server_id, source


def _evacuate(system, server_id, expect=200, **body):
    return h.act(system, server_id, {'evacuate': body}, expect=expect)


def _finished(server_id):
    def finished():
        found = [a for a in actions.list_for_instance(server_id)
                 if a['action'] == 'evacuate']
        return found[0] if found and found[0]['finish_time'] else None
    return wait_for(finished, timeout=60, what='evacuate to finish')


def _migration(server_id):
    return migration_records.list_(instance_uuid=server_id)[0]


def _host_state(system, host):
    return _compute(system, host).driver.host_state()


def test_evacuate_rebuilds_elsewhere_and_cleans_the_source_when_back(
        evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system)
    # The spawn takes a moment, so that polls see rebuild_spawning.
    h.inject(evac_system, {'spawn': {'delay_s': 0.3}})
    resp = _evacuate(evac_system, server_id)
    assert resp.content == b''  # 2.14+: no adminPass
    seen = h.status_pairs_until(evac_system, server_id, 'ACTIVE')
    h.inject(evac_system, {})
    assert ('REBUILD', states.REBUILD_SPAWNING) in seen, seen
    action = _finished(server_id)
    assert action['result'] == states.RESULT_SUCCESS
    assert [e['event'] for e in actions.events_for(action['id'])] == [
        'EvacuateSentinel', 'ClaimEvacuationDestination',
        'PrepareEvacuationDestination', 'FetchEvacuationImage',
        'SpawnOnEvacuationDestination', 'FinishEvacuation']
    after = h.server(evac_system, server_id)
    dest = after['OS-EXT-SRV-ATTR:host']
    assert dest != source and after['status'] == 'ACTIVE'
    assert after['id'] == server_id
    guest = _host_state(evac_system, dest)['guests'][server_id]
    assert guest['power_state'] == states.RUNNING
    # The source is down: its guest is still there, the migration waits
    # and holds the source's resources.
    assert server_id in _host_state(evac_system, source)['guests']
    migration = _migration(server_id)
    assert migration['migration_type'] == 'evacuation'
    assert migration['status'] == states.MIGRATION_DONE
    assert (migration['source_compute'], migration['dest_compute']) == (
        source, dest)
    held = {(a['consumer_uuid'], a['host'])
            for a in allocations.list_for_instance(server_id)}
    assert held == {(server_id, dest), (migration['uuid'], source)}
    invariants.check_system(evac_system)
    listed = h.api(evac_system, 'GET',
                   '/v2.1/os-migrations?migration_type=evacuation').json()
    assert [m['status'] for m in listed['migrations']] == ['done']

    _host_back(evac_system, source)
    wait_for(lambda: migration_records.get(migration['uuid'])['status']
             == states.MIGRATION_COMPLETED, timeout=30,
             what='evacuation completed')
    left = _host_state(evac_system, source)
    assert not any(server_id in left[key]
                   for key in ('guests', 'networks', 'block_devices'))
    assert {(a['consumer_uuid'], a['host'])
            for a in allocations.list_for_instance(server_id)} == {
        (server_id, dest)}
    assert h.server(evac_system, server_id)['status'] == 'ACTIVE'


def test_a_stopped_server_stays_stopped_on_the_requested_host(
        evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system, 'SHUTOFF')
    dest = sorted(c.host for c in evac_system.computes
                  if c.host != source)[-1]
    _evacuate(evac_system, server_id, host=dest)
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    after = h.wait_stable(evac_system, server_id, 'SHUTOFF')
    assert after['OS-EXT-SRV-ATTR:host'] == dest
    assert _host_state(evac_system, dest)['guests'][server_id][
        'power_state'] == states.SHUTDOWN


def test_an_errored_server_runs_again_and_the_old_body_has_a_password(
        evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system)
    h.act(evac_system, server_id, {'os-resetState': {'state': 'error'}})
    resp = h.api(evac_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                 json={'evacuate': {'onSharedStorage': False,
                                    'adminPass': 'secret-1'}},
                 headers={'OpenStack-API-Version': 'compute 2.13'})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {'adminPass': 'secret-1'}
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    after = h.wait_stable(evac_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] != source


def test_the_migration_stays_done_while_the_source_is_down(evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system)
    _evacuate(evac_system, server_id)
    _finished(server_id)
    migration = _migration(server_id)
    # Several runs of the periodic later, nothing changed.
    time.sleep(1.5)
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_DONE
    assert server_id in _host_state(evac_system, source)['guests']


#: Host steps of an evacuation, on the destination.
EVACUATION_STEPS = ['prepare_networks', 'prepare_block_devices',
                    'fetch_image', 'spawn']


@pytest.mark.parametrize('when', ['before', 'after'])
@pytest.mark.parametrize('method', EVACUATION_STEPS)
def test_failure_at_a_step_is_rolled_back(evac_system, method, when):
    server_id, source = _boot_on_a_dead_host(evac_system)
    booted = h.calls(evac_system, method)
    h.inject(evac_system, {method: {'fault': 'raise', 'when': when}})
    _evacuate(evac_system, server_id)
    action = _finished(server_id)
    assert action['result'] == states.RESULT_ERROR
    assert h.calls(evac_system, method) > booted
    after = h.wait_stable(evac_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert 'Injected fault in %s' % method in \
        instances.latest_fault(server_id)['message']
    assert _migration(server_id)['status'] == states.MIGRATION_FAILED
    for compute in evac_system.computes:
        if compute.host != source:
            state = compute.driver.host_state()
            assert not any(server_id in state[key] for key in (
                'guests', 'networks', 'block_devices')), compute.host
    # A later evacuation succeeds.
    h.inject(evac_system, {})
    _evacuate(evac_system, server_id)
    h.wait_stable(evac_system, server_id, 'ACTIVE')
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS


def test_failure_powering_a_stopped_server_off_is_rolled_back(
        evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system, 'SHUTOFF')
    h.inject(evac_system, {'power_off': 'raise'})
    _evacuate(evac_system, server_id)
    assert _finished(server_id)['result'] == states.RESULT_ERROR
    after = h.wait_stable(evac_system, server_id, 'SHUTOFF')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    h.inject(evac_system, {})


def test_no_host_with_room_is_rolled_back(evac_system):
    server_id, source = _boot_on_a_dead_host(evac_system)
    for compute in evac_system.computes:
        if compute.host != source:
            hosts.set_service_disabled(compute.host, 'orchestrator-compute',
                                       True, 'test')
    _evacuate(evac_system, server_id)
    assert _finished(server_id)['result'] == states.RESULT_ERROR
    assert 'No valid host' in instances.latest_fault(server_id)['message']
    h.wait_stable(evac_system, server_id, 'ACTIVE')
    assert _migration(server_id)['status'] == states.MIGRATION_FAILED


def test_refused_requests(evac_system):
    server_id = h.boot(evac_system)
    source = h.server(evac_system, server_id)['OS-EXT-SRV-ATTR:host']
    resp = _evacuate(evac_system, server_id, expect=400)
    assert 'still in use' in resp.text
    _host_down(evac_system, source)
    _evacuate(evac_system, server_id, host='no-such-host', expect=404)
    resp = _evacuate(evac_system, server_id, host=source, expect=400)
    assert "can't be the same" in resp.text
    # onSharedStorage is gone from 2.14.
    _evacuate(evac_system, server_id, expect=400, onSharedStorage=True)
    assert migration_records.list_(instance_uuid=server_id) == []
