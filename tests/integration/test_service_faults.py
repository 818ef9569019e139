"""Broker and database faults on separate processes.

Each cluster reaches RabbitMQ or PostgreSQL through a TCP proxy of its
own (:mod:`tests.tcp_proxy`) that the test cuts for a few seconds in the
middle of flows, as a stopped service would; other tests using the real
services are not disturbed.

* Broker cut: every flow completes or reverts, nothing is stuck, nothing
  leaks, and the system serves new requests afterwards.
* Database cut: the API answers 503 with a message, never 500; the flows
  converge once the database is back.
"""

import os
import time
import urllib.parse

import pytest
import requests
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults

from tests.tcp_proxy import TcpProxy
from tests.waiting import wait_for

pytestmark = pytest.mark.integration
CUT_S = 5


def _via(url, proxy):
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit(':', 1)[0] if ':' in parts.netloc.split(
        '@')[-1] else parts.netloc
    return urllib.parse.urlunsplit(parts._replace(
        netloc='%s:%d' % (netloc, proxy.port)))


@pytest.fixture
def proxies():
    made = []

    def make(port):
        proxy = TcpProxy(port).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


def _slow_spawns(cluster, seconds):
    for host in cluster.hosts:
        fake_faults.write_runtime_faults(
            os.path.join(cluster.dir, 'fake-hosts'), host,
            {'spawn': {'delay_s': seconds}} if seconds else {})


def _boot(cluster, count, prefix):
    image = cluster.api('GET', '/image/v2/images?name=cirros-0.6.2').json()[
        'images'][0]
    ids = []
    for i in range(count):
        resp = cluster.api('POST', '/v2.1/servers', json={'server': {
            'name': '%s-%d' % (prefix, i), 'flavorRef': '1',
            'imageRef': image['id'], 'networks': 'auto'}})
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()['server']['id'])
    return ids


def _spawn_calls(cluster):
    return sum(cluster.host_file(h).get('calls', {}).get('spawn', 0)
               for h in cluster.hosts)


def _settled(cluster, ids):
    """{id: status} once every server is ACTIVE or ERROR with no task."""
    out = {}
    for server_id in ids:
        try:
            resp = cluster.api('GET', '/v2.1/servers/%s' % server_id)
        except requests.RequestException:
            return None
        if resp.status_code != 200:
            return None
        server = resp.json()['server']
        if server['OS-EXT-STS:task_state'] is not None or server[
                'status'] not in ('ACTIVE', 'ERROR'):
            return None
        out[server_id] = server
    return out


def _nothing_leaked(cluster, db_url, servers):
    guests = cluster.guests()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text(
                'select instance_uuid, host from allocations')).all()
    finally:
        engine.dispose()
    held = {}
    for instance_uuid, host in rows:
        held.setdefault(instance_uuid, []).append(host)
    for server_id, server in servers.items():
        host = server['OS-EXT-SRV-ATTR:host']
        if server['status'] == 'ACTIVE':
            assert guests.get(server_id) == [host], (server_id, guests)
            assert held.get(server_id) == [host], (server_id, held)
        else:
            assert server_id not in held, (server_id, held)


def test_broker_cut_mid_flow_everything_settles(cluster_factory, pg_url,
                                                rabbit_url, proxies):
    proxy = proxies(5672)
    cluster = cluster_factory(db_url=pg_url,
                              transport_url=_via(rabbit_url, proxy))
    _slow_spawns(cluster, 3)
    ids = _boot(cluster, 3, 'bk')
    wait_for(lambda: _spawn_calls(cluster) >= 1, timeout=60,
             what='a spawn to start')
    proxy.cut()
    time.sleep(CUT_S)
    proxy.restore()
    servers = wait_for(lambda: _settled(cluster, ids), timeout=180,
                       interval=1, what='every flow to settle')
    # The cut was felt: the services lost the broker and reconnected.
    logs = ''.join(cluster.log(key) for key in cluster.procs)
    assert 'unreachable' in logs or 'Connection reset' in logs or \
        'Reconnected' in logs or 'ECONNRESET' in logs, logs[-3000:]
    _nothing_leaked(cluster, pg_url, servers)
    # The system serves again.
    _slow_spawns(cluster, 0)
    again = _boot(cluster, 1, 'after')
    servers = wait_for(lambda: _settled(cluster, again), timeout=120,
                       interval=1, what='a boot after the cut')
    assert [s['status'] for s in servers.values()] == ['ACTIVE']


def test_database_cut_api_answers_503_and_flows_converge(
        cluster_factory, pg_url, rabbit_url, proxies):
    proxy = proxies(5432)
    db_url = _via(pg_url, proxy)
    cluster = cluster_factory(db_url=db_url, transport_url=rabbit_url)
    _slow_spawns(cluster, 3)
    ids = _boot(cluster, 2, 'db')
    wait_for(lambda: _spawn_calls(cluster) >= 1, timeout=60,
             what='a spawn to start')
    proxy.cut()
    try:
        seen = set()
        deadline = time.monotonic() + CUT_S
        while time.monotonic() < deadline:
            resp = cluster.api('GET', '/v2.1/servers/%s' % ids[0])
            seen.add(resp.status_code)
            if resp.status_code == 503:
                assert 'database is unavailable' in resp.text
            time.sleep(0.5)
    finally:
        proxy.restore()
    assert 500 not in seen, seen
    assert 503 in seen, seen
    servers = wait_for(lambda: _settled(cluster, ids), timeout=180,
                       interval=1, what='every flow to converge')
    _nothing_leaked(cluster, pg_url, servers)
