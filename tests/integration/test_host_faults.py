"""Compute host faults on separate processes (RabbitMQ + PostgreSQL).

* An agent SIGKILLed in the middle of a spawn and started again: the boot
  converges (ACTIVE with exactly one guest, or ERROR with nothing left),
  never stuck.
* An agent that never comes back: the flow fails after the RPC timeout,
  rolls back with the resources released, and the host is shown down.
"""

import os
import signal
import time

import pytest
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

OVERRIDES = {'DEFAULT': {'compute_rpc_timeout_s': 8,
                         'service_down_time_s': 6}}


@pytest.fixture
def one_host(cluster_factory, pg_url, rabbit_url):
    cluster = cluster_factory(db_url=pg_url, transport_url=rabbit_url,
                              hosts=1, overrides=OVERRIDES)
    cluster.db_url = pg_url
    return cluster


def _slow_spawn(cluster, seconds):
    fake_faults.write_runtime_faults(
        os.path.join(cluster.dir, 'fake-hosts'), cluster.hosts[0],
        {'spawn': {'delay_s': seconds}} if seconds else {})


def _boot(cluster):
    image = cluster.api('GET', '/image/v2/images?name=cirros-0.6.2').json()[
        'images'][0]
    resp = cluster.api('POST', '/v2.1/servers', json={'server': {
        'name': 'hf', 'flavorRef': '1', 'imageRef': image['id'],
        'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    return resp.json()['server']['id']


def _spawn_started(cluster):
    return cluster.host_file(cluster.hosts[0]).get('calls', {}).get(
        'spawn', 0) >= 1


def _stable(cluster, server_id):
    server = cluster.api('GET', '/v2.1/servers/%s' % server_id).json()[
        'server']
    if server['OS-EXT-STS:task_state'] is None and server['status'] in (
            'ACTIVE', 'ERROR'):
        return server
    return None


def _allocations(cluster, server_id):
    engine = sa.create_engine(cluster.db_url)
    try:
        with engine.connect() as c:
            return [r[0] for r in c.execute(sa.text(
                'select host from allocations where instance_uuid = :u'),
                {'u': server_id})]
    finally:
        engine.dispose()


def test_agent_killed_mid_spawn_and_restarted_converges(one_host):
    cluster = one_host
    host = cluster.hosts[0]
    _slow_spawn(cluster, 4)
    server_id = _boot(cluster)
    wait_for(lambda: _spawn_started(cluster), timeout=60,
             what='the spawn to start')
    cluster.procs[host].send_signal(signal.SIGKILL)
    cluster.procs[host].wait(10)
    _slow_spawn(cluster, 0)
    cluster.spawn(host, 'compute', host=host)
    server = wait_for(lambda: _stable(cluster, server_id), timeout=120,
                      what='the boot to end')
    guests = cluster.guests().get(server_id, [])
    if server['status'] == 'ACTIVE':
        assert guests == [host]
        assert _allocations(cluster, server_id) == [host]
    else:
        assert guests == [] and _allocations(cluster, server_id) == []


def test_agent_that_never_returns_fails_the_flow_and_shows_down(one_host):
    cluster = one_host
    host = cluster.hosts[0]
    _slow_spawn(cluster, 4)
    server_id = _boot(cluster)
    wait_for(lambda: _spawn_started(cluster), timeout=60,
             what='the spawn to start')
    cluster.procs[host].send_signal(signal.SIGKILL)
    started = time.monotonic()
    server = wait_for(lambda: _stable(cluster, server_id), timeout=120,
                      what='the boot to fail')
    assert server['status'] == 'ERROR'
    assert 'MessagingTimeout' in server['fault']['message'] or \
        'Timed out' in server['fault']['message'], server['fault']
    # The RPC timeout, then its rollback (whose host calls time out too).
    assert time.monotonic() - started < 90
    assert _allocations(cluster, server_id) == []

    def down():
        hypervisors = cluster.api('GET', '/v2.1/os-hypervisors/detail')\
            .json()['hypervisors']
        return [h['state'] for h in hypervisors] == ['down']
    wait_for(down, timeout=60, what='the host to be shown down')
