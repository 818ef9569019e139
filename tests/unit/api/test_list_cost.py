"""The cost of ``GET /servers/detail``: a fixed number of SQL statements
per page, whatever the page holds (faults and host status included)."""

import contextlib

import sqlalchemy as sa

from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

SERVERS = 50


@contextlib.contextmanager
def counting_statements(engine):
    """Yields a list that receives every SQL statement ``engine`` runs."""
    statements = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        statements.append(statement)
    sa.event.listen(engine, 'before_cursor_execute', record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, 'before_cursor_execute', record)


def _detail(app, engine, limit):
    with counting_statements(engine) as statements:
        resp = call(app, 'GET', '/v2.1/servers/detail?limit=%d' % limit,
                    version='2.47')
    assert resp.status_int == 200, resp.body
    return resp.json['servers'], len(statements)


def test_detail_list_statements_do_not_grow_with_the_page(app, db):
    db_hosts.heartbeat('host1', 'orchestrator-compute')
    newest = {}
    for n in range(SERVERS):
        instance = make_instance('error' if n % 5 else 'active',
                                 host='host1')
        if n % 5:
            db_instances.add_fault(instance['uuid'], 500, 'old %d' % n)
            db_instances.add_fault(instance['uuid'], 409, 'new %d' % n,
                                   details='d')
            newest[instance['uuid']] = 'new %d' % n
    small, small_cost = _detail(app, db, 5)
    large, large_cost = _detail(app, db, SERVERS)
    assert len(small) == 5 and len(large) == SERVERS
    assert large_cost == small_cost, (small_cost, large_cost)
    for server in large:
        if server['id'] in newest:
            assert server['fault']['message'] == newest[server['id']]
            assert server['fault']['code'] == 409
            assert server['fault']['details'] == 'd'
        else:
            assert 'fault' not in server
        assert server['host_status'] == 'UP'


def test_latest_faults_reads_the_newest_fault_of_each_instance(db):
    with_faults = [make_instance('error') for _ in range(3)]
    for n, instance in enumerate(with_faults):
        for code in (500, 400 + n):
            db_instances.add_fault(instance['uuid'], code, 'code %d' % code)
    clean = make_instance('error')
    uuids = [i['uuid'] for i in with_faults] + [clean['uuid']]
    with counting_statements(db) as statements:
        faults = db_instances.latest_faults(uuids)
    assert [s for s in statements if 'instance_faults' in s] == \
        statements[-1:]
    assert {u: f['code'] for u, f in faults.items()} == {
        i['uuid']: 400 + n for n, i in enumerate(with_faults)}
    assert db_instances.latest_faults([]) == {}
