"""Boot and delete 10 servers through HTTP on separate daemons.

RabbitMQ carries RPC; the database is PostgreSQL (SQL jobboard) or MariaDB
(Redis jobboard). After the boots: every server ACTIVE with exactly one
guest, on the host the API shows, and one allocation there. After the
deletes: every server gone, no guest and no allocation left, and each
server's audit holds a finished create and delete action.
"""

import pytest
import sqlalchemy as sa

from tests.waiting import wait_for

pytestmark = pytest.mark.integration

COUNT = 10


def _boot_and_delete(cluster, db_url):
    flavor = cluster.api('GET', '/v2.1/flavors').json()['flavors'][0]
    image = cluster.api('GET', '/image/v2/images?name=cirros-0.6.2').json()[
        'images'][0]
    ids = []
    for i in range(COUNT):
        resp = cluster.api('POST', '/v2.1/servers', json={'server': {
            'name': 'vm-%d' % i, 'flavorRef': flavor['id'],
            'imageRef': image['id'], 'networks': 'auto'}})
        assert resp.status_code == 202, resp.text
        ids.append(resp.json()['server']['id'])

    def all_active():
        servers = cluster.api('GET', '/v2.1/servers/detail').json()[
            'servers']
        by_id = {s['id']: s for s in servers}
        states = [by_id[i]['status'] for i in ids if i in by_id]
        assert 'ERROR' not in states, servers
        return by_id if states == ['ACTIVE'] * COUNT else None

    servers = wait_for(all_active, timeout=120, what='10 servers ACTIVE')
    guests = cluster.guests()
    engine = sa.create_engine(db_url)
    with engine.connect() as c:
        rows = c.execute(sa.text(
            'select instance_uuid, host from allocations')).all()
    allocations = {}
    for instance_uuid, host in rows:
        allocations.setdefault(instance_uuid, []).append(host)
    for server_id in ids:
        host = servers[server_id]['OS-EXT-SRV-ATTR:host']
        assert guests.get(server_id) == [host]
        assert allocations.get(server_id) == [host]

    for server_id in ids:
        resp = cluster.api('DELETE', '/v2.1/servers/%s' % server_id)
        assert resp.status_code == 204, resp.text

    def all_gone():
        codes = [cluster.api('GET', '/v2.1/servers/%s' % i).status_code
                 for i in ids]
        return all(code == 404 for code in codes)

    wait_for(all_gone, timeout=120, what='10 servers deleted')
    guests = cluster.guests()
    assert not any(i in guests for i in ids), guests
    with engine.connect() as c:
        left = c.execute(sa.text('select count(*) from allocations')).scalar()
        assert left == 0

    def audited():
        # The action is finished by the flow's end, just after the row
        # was marked deleted.
        with engine.connect() as c:
            rows = c.execute(sa.text(
                "select action, result, count(*) from instance_actions "
                "where finish_time is not null group by action, result"))
            return {(a, r): n for a, r, n in rows}

    wait_for(lambda: audited() == {('create', 'Success'): COUNT,
                                   ('delete', 'Success'): COUNT},
             timeout=30, what='every action audited as finished')
    engine.dispose()


def test_rabbitmq_postgresql_sql_jobboard(cluster_factory, pg_url,
                                          rabbit_url):
    cluster = cluster_factory(db_url=pg_url, transport_url=rabbit_url)
    _boot_and_delete(cluster, pg_url)


def test_rabbitmq_mariadb_redis_jobboard(cluster_factory, mysql_url,
                                         rabbit_url, redis_url):
    cluster = cluster_factory(db_url=mysql_url, transport_url=rabbit_url,
                              jobboard='redis', redis_url=redis_url)
    _boot_and_delete(cluster, mysql_url)


def test_standalone_daemons_refuse_the_in_memory_transport(tmp_path,
                                                           pg_url):
    from tests.integration.conftest import Cluster
    cluster = Cluster(tmp_path, db_url=pg_url,
                      transport_url='kombu+memory:////')
    cluster.run('manage', 'db', 'sync')
    for module in ('conductor', 'compute', 'api'):
        result = cluster.run(module, check=False, timeout=60)
        assert result.returncode != 0, (module, result.stdout)
        output = result.stdout + result.stderr
        assert 'in-memory transport' in output, (module, output[-2000:])
