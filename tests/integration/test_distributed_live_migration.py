"""Live migration across separate processes: API, conductor and three
compute agents on RabbitMQ and PostgreSQL (SQL jobboard).

One server is live-migrated (it ends on another host), then a live
migration of it is aborted while its memory is copied (the abort reaches
the source agent as a cast relayed by the conductor, and the migration is
rolled back), then one fails on the source (rolled back). After each, the
invariant of :mod:`tests.functional.invariants` holds on the database and
the agents' host files.
"""

import os

import pytest
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults

from tests.functional import invariants
from tests.waiting import wait_for

pytestmark = pytest.mark.integration


def _server(cluster, server_id):
    return cluster.api('GET', '/v2.1/servers/%s' % server_id).json()[
        'server']


def _last_live_migration(engine, server_id):
    with engine.connect() as c:
        row = c.execute(sa.text(
            "select result, finish_time from instance_actions "
            "where instance_uuid = :u and action = 'live-migration' "
            "order by id desc limit 1"), {'u': server_id}).one()
    return dict(row._mapping)


def _live_migrate(cluster, engine, server_id):
    resp = cluster.api('POST', '/v2.1/servers/%s/action' % server_id,
                       json={'os-migrateLive': {'host': None,
                                                'block_migration': 'auto'}})
    assert resp.status_code == 202, resp.text


def _wait_finished(engine, server_id):
    def finished():
        action = _last_live_migration(engine, server_id)
        return action if action['finish_time'] else None
    return wait_for(finished, timeout=120, what='live migration to finish')


def _migration_status(engine, server_id):
    with engine.connect() as c:
        return c.execute(sa.text(
            "select status from migrations where instance_uuid = :u "
            "order by id desc limit 1"), {'u': server_id}).scalar_one()


def _faults(cluster, host, faults):
    fake_faults.write_runtime_faults(
        os.path.join(cluster.dir, 'fake-hosts'), host, faults)


def _check(cluster, engine):
    invariants.check_engine(engine, os.path.join(cluster.dir, 'fake-hosts'),
                            cluster.hosts)


def test_live_migration_succeeds_then_is_aborted_then_fails(
        cluster_factory, pg_url, rabbit_url):
    cluster = cluster_factory(db_url=pg_url, transport_url=rabbit_url)
    engine = sa.create_engine(pg_url)
    flavor = cluster.api('GET', '/v2.1/flavors').json()['flavors'][0]
    image = cluster.api('GET', '/image/v2/images?name=cirros-0.6.2').json()[
        'images'][0]
    resp = cluster.api('POST', '/v2.1/servers', json={'server': {
        'name': 'lm', 'flavorRef': flavor['id'], 'imageRef': image['id'],
        'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    wait_for(lambda: _server(cluster, server_id)['status'] == 'ACTIVE',
             timeout=120, what='server ACTIVE')
    source = _server(cluster, server_id)['OS-EXT-SRV-ATTR:host']

    # 1. It moves.
    _live_migrate(cluster, engine, server_id)
    assert _wait_finished(engine, server_id)['result'] == 'Success'
    moved = _server(cluster, server_id)
    dest = moved['OS-EXT-SRV-ATTR:host']
    assert dest != source and moved['status'] == 'ACTIVE'
    assert cluster.guests()[server_id] == [dest]
    assert _migration_status(engine, server_id) == 'completed'
    _check(cluster, engine)

    # 2. Aborted during the copy: rolled back, still on its host.
    _faults(cluster, dest, {'live_migration': {'delay_s': 20}})
    _live_migrate(cluster, engine, server_id)

    def copying():
        found = cluster.api('GET', '/v2.1/servers/%s/migrations'
                            % server_id).json()['migrations']
        return found[0] if found and found[0][
            'memory_processed_bytes'] else None

    migration = wait_for(copying, timeout=60, interval=0.1,
                         what='the memory copy')
    resp = cluster.api('DELETE', '/v2.1/servers/%s/migrations/%d'
                       % (server_id, migration['id']))
    assert resp.status_code == 202, resp.text
    action = _wait_finished(engine, server_id)
    assert action['result'] == 'Error'
    assert _migration_status(engine, server_id) == 'cancelled'
    wait_for(lambda: _server(cluster, server_id)['OS-EXT-STS:task_state']
             is None, timeout=30, what='task to end')
    after = _server(cluster, server_id)
    assert (after['status'], after['OS-EXT-SRV-ATTR:host']) == (
        'ACTIVE', dest)
    assert cluster.guests()[server_id] == [dest]
    with engine.connect() as c:
        processed, total = c.execute(sa.text(
            "select memory_processed, memory_total from migrations "
            "where id = :i"), {'i': migration['id']}).one()
    assert processed < total  # the copy stopped early
    _faults(cluster, dest, {})
    _check(cluster, engine)

    # 3. Fails on the source after the copy: rolled back.
    _faults(cluster, dest, {'live_migration': {'fault': 'raise',
                                               'when': 'after'}})
    _live_migrate(cluster, engine, server_id)
    assert _wait_finished(engine, server_id)['result'] == 'Error'
    assert _migration_status(engine, server_id) == 'failed'
    wait_for(lambda: _server(cluster, server_id)['OS-EXT-STS:task_state']
             is None, timeout=30, what='task to end')
    assert _server(cluster, server_id)['OS-EXT-SRV-ATTR:host'] == dest
    assert cluster.guests()[server_id] == [dest]
    _faults(cluster, dest, {})
    _check(cluster, engine)
    engine.dispose()
