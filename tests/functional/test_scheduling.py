"""Placement over HTTP: reschedule on build failure, availability zones
and an administrator's requested host, on the all-in-one (3 fake hosts).

Faults are injected on one host only, so the build fails there and must
end ACTIVE on another host with nothing left behind on the failed one.
"""

from orchestrator.compute import service as compute_service
from orchestrator.compute.drivers import fake_faults
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.scheduler import host_selection

from tests.functional import api_helpers as h
from tests.waiting import wait_for

TINY = {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}
#: How long a build (with its reschedules) may take on a loaded machine.
BUILD_S = 120
HOST_STEPS = ['PrepareNetworks', 'PrepareBlockDevices', 'FetchImage',
              'SpawnOnHost']


def _inject_on(system, host, faults):
    """Run-time faults on one fake host only."""
    (compute,) = [c for c in system.computes if c.host == host]
    fake_faults.write_runtime_faults(compute.driver.state_dir, host, faults)


def _create(system, name, **extra):
    """POST /servers with m1.tiny and the first image; the server id."""
    image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]
    server = dict(name=name, flavorRef='1', imageRef=image['id'],
                  networks='auto', **extra)
    resp = h.api(system, 'POST', '/v2.1/servers', json={'server': server})
    assert resp.status_code == 202, resp.text
    return resp.json()['server']['id']


def _create_events(system, server_id):
    """The events of the server's create action as the API shows them
    (name, result), once the action finished."""
    def finished():
        (create,) = [a for a in actions.list_for_instance(server_id)
                     if a['action'] == 'create']
        return create if create['finish_time'] else None
    create = wait_for(finished, timeout=BUILD_S,
                      what='create action to finish')
    shown = h.api(system, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                  % (server_id, create['request_id'])).json()
    return create, shown['instanceAction']['events']


def _on_host(system, host, server_id):
    """What ``host`` keeps of the server: the keys of its host file that
    name it."""
    (compute,) = [c for c in system.computes if c.host == host]
    state = compute.driver.host_state()
    return sorted(key for key in ('guests', 'networks', 'block_devices')
                  if server_id in state[key])


def test_build_failing_on_its_host_is_rescheduled_on_an_alternate(
        api_system):
    primary = host_selection.candidate_hosts(TINY)[0]
    # The guest is made, then spawn fails: the revert must destroy it.
    _inject_on(api_system, primary,
               {'spawn': {'fault': 'raise', 'when': 'after'}})
    server_id = _create(api_system, 'rescheduled')
    found = h.wait_stable(api_system, server_id, 'ACTIVE', timeout=BUILD_S)
    final = found['OS-EXT-SRV-ATTR:host']
    assert final not in (None, primary)
    assert _on_host(api_system, primary, server_id) == []
    assert _on_host(api_system, final, server_id) == [
        'block_devices', 'guests', 'networks']
    assert h.guest(api_system, server_id)[0] == final
    assert [(a['host'], a['consumer_uuid'])
            for a in allocations.list_for_instance(server_id)] == [
        (final, server_id)]
    assert 'fault' not in found

    create, events = _create_events(api_system, server_id)
    assert create['result'] == 'Success'
    assert [e['event'] for e in events] == (
        ['BuildToErrorOnRevert', 'ScheduleInstance'] + HOST_STEPS
        + [step + ':revert' for step in reversed(HOST_STEPS)]
        + ['ScheduleInstance (attempt 2)']
        + [step + ' (attempt 2)' for step in HOST_STEPS]
        + ['MarkActive'])
    results = {e['event']: e for e in events}
    assert results['SpawnOnHost']['result'] == 'Error'
    assert 'InjectedFault' in results['SpawnOnHost']['traceback']
    assert all(e['result'] == 'Success' for e in events
               if e['event'] != 'SpawnOnHost'), events
    # The failed host was cleaned before the next one was claimed.
    assert (results['PrepareNetworks:revert']['finish_time']
            <= results['ScheduleInstance (attempt 2)']['start_time'])


def test_attempts_run_out_gives_error_naming_each_attempt(api_system,
                                                          conf):
    conf.set_override('max_attempts', 2, group='scheduler')
    h.inject(api_system, {'spawn': 'raise'})
    server_id = _create(api_system, 'unlucky')
    found = h.wait_stable(api_system, server_id, 'ERROR', timeout=BUILD_S)
    message = found['fault']['message']
    # Spread over empty hosts: compute-1 first, then the next by name.
    assert message == (
        'No valid host was found. Exceeded the maximum number of build '
        'attempts ([scheduler] max_attempts 2): 1. compute-1: Injected '
        'fault in spawn on compute-1; 2. compute-2: Injected fault in '
        'spawn on compute-2'), message
    assert h.calls(api_system, 'spawn') == 2
    assert h.host_leftovers(api_system, server_id) == []
    assert allocations.list_for_instance(server_id) == []
    assert found['OS-EXT-SRV-ATTR:host'] is None

    create, events = _create_events(api_system, server_id)
    assert create['result'] == 'Error'
    assert create['message'] == message
    names = [e['event'] for e in events]
    assert names[-3:] == ['ScheduleInstance (attempt 3)',
                          'ScheduleInstance:revert',
                          'BuildToErrorOnRevert:revert'], names
    results = {e['event']: e['result'] for e in events}
    assert results['SpawnOnHost'] == results[
        'SpawnOnHost (attempt 2)'] == 'Error'
    assert results['ScheduleInstance (attempt 3)'] == 'Error'
    assert 'SpawnOnHost (attempt 3)' not in results


def test_one_attempt_only_when_rescheduling_is_off(api_system, conf):
    conf.set_override('max_attempts', 1, group='scheduler')
    primary = host_selection.candidate_hosts(TINY)[0]
    _inject_on(api_system, primary, {'spawn': 'raise'})
    server_id = _create(api_system, 'once')
    found = h.wait_stable(api_system, server_id, 'ERROR', timeout=BUILD_S)
    assert ('([scheduler] max_attempts 1): 1. %s: Injected fault in spawn'
            % primary) in found['fault']['message']
    assert h.calls(api_system, 'spawn') == 1
    assert h.host_leftovers(api_system, server_id) == []


def _start_host(system, conf, name, zone):
    """Another fake host, in availability zone ``zone``, stopped with
    the system."""
    driver = compute_service.load_driver('fake', name, conf)
    compute = compute_service.ComputeService(name, driver, conf,
                                             availability_zone=zone)
    compute.start()
    system.computes.append(compute)
    wait_for(lambda: [s for s in hosts.list_services(host=name)
                      if s['zone'] == zone]
             and any(n['host'] == name for n in hosts.list_compute_nodes()),
             what='%s to report zone %s' % (name, zone))
    return compute


def test_availability_zone_places_the_server_in_that_zone(api_system,
                                                          conf):
    _start_host(api_system, conf, 'compute-az2', 'az2')
    in_az2 = _create(api_system, 'in-az2', availability_zone='az2')
    in_nova = _create(api_system, 'in-nova', availability_zone='nova')
    anywhere = _create(api_system, 'anywhere')
    nowhere = _create(api_system, 'nowhere', availability_zone='az9')

    found = h.wait_stable(api_system, in_az2, 'ACTIVE', timeout=BUILD_S)
    assert found['OS-EXT-SRV-ATTR:host'] == 'compute-az2'
    assert found['OS-EXT-AZ:availability_zone'] == 'az2'
    found = h.wait_stable(api_system, in_nova, 'ACTIVE', timeout=BUILD_S)
    assert found['OS-EXT-SRV-ATTR:host'] in ('compute-1', 'compute-2',
                                             'compute-3')
    h.wait_stable(api_system, anywhere, 'ACTIVE', timeout=BUILD_S)
    found = h.wait_stable(api_system, nowhere, 'ERROR', timeout=BUILD_S)
    assert ('No valid host was found. 4 host(s) considered for 1 vCPU, '
            '512 MB RAM, 1 GB disk in availability zone az9: 4 in another '
            'availability zone') == found['fault']['message']
    assert allocations.list_for_instance(nowhere) == []


def test_reschedule_stays_in_the_requested_zone(api_system, conf):
    """The only host of az2 fails the build: no alternate in the zone, so
    the build ends in ERROR instead of leaving the zone."""
    _start_host(api_system, conf, 'compute-az2', 'az2')
    _inject_on(api_system, 'compute-az2', {'spawn': 'raise'})
    server_id = _create(api_system, 'zone-bound', availability_zone='az2')
    found = h.wait_stable(api_system, server_id, 'ERROR', timeout=BUILD_S)
    assert found['fault']['message'].startswith(
        'No valid host was found. No alternate host left for attempt 2 '
        '(none was chosen); failed attempts: 1. compute-az2: Injected '
        'fault in spawn'), found['fault']['message']
    assert h.calls(api_system, 'spawn') == 1
    assert h.host_leftovers(api_system, server_id) == []


def test_admin_requested_host_places_the_server_there(api_system):
    # Without a request the spread weigher picks the first of three
    # empty hosts by name; ask for the last one.
    assert host_selection.candidate_hosts(TINY)[0] == 'compute-1'
    server_id = _create(api_system, 'forced',
                        availability_zone='nova:compute-3')
    found = h.wait_stable(api_system, server_id, 'ACTIVE', timeout=BUILD_S)
    assert found['OS-EXT-SRV-ATTR:host'] == 'compute-3'
    assert found['OS-EXT-AZ:availability_zone'] == 'nova'
    assert h.guest(api_system, server_id)[0] == 'compute-3'


def test_requested_host_failing_the_build_is_not_rescheduled_elsewhere(
        api_system):
    _inject_on(api_system, 'compute-2', {'spawn': 'raise'})
    server_id = _create(api_system, 'forced-fails',
                        availability_zone=':compute-2')
    found = h.wait_stable(api_system, server_id, 'ERROR', timeout=BUILD_S)
    assert 'No alternate host left for attempt 2' in found['fault'][
        'message']
    assert h.calls(api_system, 'spawn') == 1
    assert h.host_leftovers(api_system, server_id) == []


def test_unknown_requested_host_is_error_no_valid_host(api_system):
    server_id = _create(api_system, 'lost',
                        availability_zone='nova:compute-9')
    found = h.wait_stable(api_system, server_id, 'ERROR', timeout=BUILD_S)
    assert found['fault']['message'] == (
        'No valid host was found. The requested host compute-9 is not a '
        'compute host')
    assert instances.get(server_id)['host'] is None
    assert allocations.list_for_instance(server_id) == []
    create, events = _create_events(api_system, server_id)
    assert create['message'] == found['fault']['message']
    assert [(e['event'], e['result']) for e in events] == [
        ('BuildToErrorOnRevert', 'Success'), ('ScheduleInstance', 'Error'),
        ('ScheduleInstance:revert', 'Success'),
        ('BuildToErrorOnRevert:revert', 'Success')]
