"""SIGKILL the all-in-one in the middle of a boot, start it again.

The all-in-one runs as a real process (``python -m
orchestrator.cmd.allinone``) on a state dir; the test drives it over HTTP
only, kills it with SIGKILL at a chosen point of the boot flow, starts a
new one on the same state dir, and checks that the flow resumed: the server
ends ACTIVE with exactly one guest, on its host, holding one allocation --
or cleanly rolled back -- and never stays in a task_state. The process
harness is :mod:`tests.crash.harness` (shared with the crash suite).
"""

import os

import pytest
import requests
import sqlalchemy as sa

from orchestrator import failpoints
from orchestrator.compute.drivers import fake_faults

from tests.crash import harness
from tests.functional.systems import free_port
from tests.waiting import wait_for

HOSTS = tuple(harness.host_names(harness.DEFAULT_HOSTS))


@pytest.fixture
def aio(tmp_path):
    node = harness.AllInOneProcess(tmp_path / 'state', free_port())
    node.start()
    yield node
    node.stop()
    node.close()


def _create(aio, name):
    flavors = aio.api('GET', '/v2.1/flavors').json()['flavors']
    images = aio.api('GET', '/image/v2/images?name=cirros-0.6.2').json()
    body = {'server': {'name': name, 'imageRef': images['images'][0]['id'],
                       'flavorRef': flavors[0]['id']}}
    resp = aio.api('POST', '/v2.1/servers', json=body)
    assert resp.status_code == 202, resp.text
    return resp.json()['server']['id']


def _guests(aio, server_id):
    return [host for host in HOSTS
            if server_id in aio.host_file(host)['guests']]


def _calls(aio, method):
    return sum(aio.host_file(h)['calls'].get(method, 0) for h in HOSTS)


def _assert_converged(aio, server_id):
    """ACTIVE with one guest where the server says, one allocation; or
    rolled back (ERROR, nothing left). Never in a task_state."""
    server = wait_for(
        lambda: (lambda s: s if s and s['OS-EXT-STS:task_state'] is None
                 and s['status'] in ('ACTIVE', 'ERROR') else None)(
            aio.server(server_id)), timeout=60, what='boot to converge')
    with aio.db().connect() as c:
        allocs = c.execute(sa.text(
            'select host from allocations where instance_uuid = :u'),
            {'u': server_id}).scalars().all()
    guests = _guests(aio, server_id)
    if server['status'] == 'ACTIVE':
        assert guests == [server['OS-EXT-SRV-ATTR:host']], guests
        assert allocs == [server['OS-EXT-SRV-ATTR:host']], allocs
    else:
        assert guests == [] and allocs == [], (guests, allocs)
    return server


def test_sigkill_during_spawn_then_restart_resumes(aio):
    aio.faults({'spawn': {'delay_s': 4}})
    server_id = _create(aio, 'crash-during-spawn')
    # spawn has started on a host (its call is counted) but not returned.
    wait_for(lambda: _calls(aio, 'spawn') >= 1, timeout=30,
             what='spawn to start')
    aio.kill()
    aio.faults({})
    aio.start()
    server = _assert_converged(aio, server_id)
    assert server['status'] == 'ACTIVE'


def test_sigkill_after_spawn_before_flow_end_does_not_spawn_twice(aio):
    # The host writes the guest, then the whole process dies before the
    # flow learns that spawn succeeded: on resume, spawn runs again and
    # must find the guest there instead of making a second one.
    aio.faults({'spawn': {'fault': 'crash', 'when': 'after'}})
    server_id = _create(aio, 'crash-after-spawn')
    aio.proc.wait(60)
    assert aio.proc.returncode == fake_faults.CRASH_EXIT_CODE, aio.log()
    assert len(_guests(aio, server_id)) == 1
    aio.faults({})
    aio.start()
    server = _assert_converged(aio, server_id)
    assert server['status'] == 'ACTIVE'
    assert len(_guests(aio, server_id)) == 1


def test_sigkill_during_delete_then_restart_finishes_it(aio):
    server_id = _create(aio, 'crash-during-delete')
    wait_for(lambda: (aio.server(server_id) or {}).get('status') == 'ACTIVE',
             timeout=60, what='boot')
    aio.faults({'destroy': {'delay_s': 4}})
    assert aio.api('DELETE', '/v2.1/servers/%s' % server_id).status_code \
        == 204
    wait_for(lambda: _calls(aio, 'destroy') >= 1, timeout=30,
             what='destroy to start')
    aio.kill()
    aio.faults({})
    aio.start()
    wait_for(lambda: aio.api('GET', '/v2.1/servers/%s' % server_id)
             .status_code == 404, timeout=60, what='delete to finish')
    assert _guests(aio, server_id) == []
    with aio.db().connect() as c:
        assert c.execute(sa.text(
            'select count(*) from allocations where instance_uuid = :u'),
            {'u': server_id}).scalar() == 0


def _fault_on(aio, host, faults):
    fake_faults.write_runtime_faults(
        os.path.join(aio.state_dir, 'fake-hosts'), host, faults)


def _create_events(aio, server_id):
    actions_ = aio.api('GET', '/v2.1/servers/%s/os-instance-actions'
                       % server_id).json()['instanceActions']
    (create,) = [a for a in actions_ if a['action'] == 'create']
    shown = aio.api('GET', '/v2.1/servers/%s/os-instance-actions/%s'
                    % (server_id, create['request_id'])).json()
    return [(e['event'], e['result'])
            for e in shown['instanceAction']['events']]


@pytest.mark.parametrize('crash_in', ['spawn', 'destroy'])
def test_sigkill_during_a_reschedule_then_restart_resumes_it(aio,
                                                             crash_in):
    """The build fails on compute-1 (the spread weigher's first pick) and
    the process dies either while the failed attempt's guest is being
    destroyed there, or during the spawn of the second attempt on
    compute-2. After a restart the reschedule goes on: ACTIVE on
    compute-2, nothing left on compute-1, one allocation."""
    if crash_in == 'destroy':
        _fault_on(aio, 'compute-1', {
            'spawn': {'fault': 'raise', 'when': 'after'},
            'destroy': 'crash'})
    else:
        _fault_on(aio, 'compute-1', {'spawn': 'raise'})
        _fault_on(aio, 'compute-2', {'spawn': 'crash'})
    server_id = _create(aio, 'crash-in-reschedule')
    aio.proc.wait(60)
    assert aio.proc.returncode == fake_faults.CRASH_EXIT_CODE, aio.log()
    aio.faults({})
    aio.start()
    server = _assert_converged(aio, server_id)
    assert server['status'] == 'ACTIVE', server
    assert server['OS-EXT-SRV-ATTR:host'] == 'compute-2'
    assert server_id not in aio.host_file('compute-1')['guests']
    wait_for(lambda: ('MarkActive', 'Success')
             in _create_events(aio, server_id), what='audit of the boot')
    events = _create_events(aio, server_id)
    assert ('SpawnOnHost', 'Error') in events, events
    assert ('SpawnOnHost:revert', 'Success') in events, events
    assert ('ScheduleInstance (attempt 2)', 'Success') in events, events
    assert ('SpawnOnHost (attempt 2)', 'Success') in events, events


def test_sigkill_right_after_a_multiple_create_is_accepted(aio):
    """The API dies as it hands the first of three servers to a
    conductor (the three were accepted together in one transaction, with
    two of them claimed on hosts for min_count): after a restart every
    server is built, each on the host it holds, once."""
    aio.stop()
    aio.start(env={failpoints.ENV_VAR:
                   'orchestrator-boot-server:job:after-claim=kill'})
    flavors = aio.api('GET', '/v2.1/flavors').json()['flavors']
    images = aio.api('GET', '/image/v2/images?name=cirros-0.6.2').json()
    body = {'server': {'name': 'trio', 'imageRef': images['images'][0]['id'],
                       'flavorRef': flavors[0]['id'], 'min_count': 2,
                       'max_count': 3}}
    with pytest.raises(requests.RequestException):
        aio.api('POST', '/v2.1/servers', json=body)
    aio.proc.wait(60)
    aio.start()
    listed = aio.api('GET', '/v2.1/servers').json()['servers']
    assert sorted(s['name'] for s in listed) == ['trio-1', 'trio-2',
                                                 'trio-3']
    for server in listed:
        assert _assert_converged(aio, server['id'])['status'] == 'ACTIVE'
        assert len(_guests(aio, server['id'])) == 1
