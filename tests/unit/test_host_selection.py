"""Host selection: filters, the free-RAM weigher and atomic claims."""

import datetime
import threading

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import migration
from orchestrator.db import models
from orchestrator.db import session
from orchestrator.scheduler import host_selection

SMALL = {'vcpus': 1, 'memory_mb': 1024, 'disk_gb': 10}


def _host(name, memory_mb=4096, vcpus=4, disk_gb=100):
    hosts.heartbeat(name, host_selection.COMPUTE_BINARY)
    hosts.update_compute_node(name, vcpus, memory_mb, disk_gb)


def _age(name, seconds):
    """Make the last heartbeat of ``name`` ``seconds`` old."""
    with session.writer() as s:
        s.execute(sa.update(models.Service).where(
            models.Service.host == name).values(
                last_seen_at=models.utcnow()
                - datetime.timedelta(seconds=seconds)))


def test_spreads_by_free_ram_and_skips_down_and_disabled_hosts(db, conf):
    conf.set_override('service_down_time_s', 60)
    _host('big', memory_mb=8192)
    _host('small', memory_mb=2048)
    _host('down', memory_mb=65536)
    _host('disabled', memory_mb=65536)
    _age('down', 61)
    hosts.set_service_disabled('disabled', host_selection.COMPUTE_BINARY,
                               True, 'maintenance')
    assert host_selection.candidate_hosts(SMALL) == ['big', 'small']
    # A heartbeat brings the host back.
    hosts.heartbeat('down', host_selection.COMPUTE_BINARY)
    assert host_selection.candidate_hosts(SMALL)[0] == 'down'


def test_claims_land_on_the_host_with_most_free_ram(db, conf):
    _host('a', memory_mb=4096)
    _host('b', memory_mb=4096)
    first = host_selection.select_and_claim('i1', 'i1', SMALL)
    second = host_selection.select_and_claim('i2', 'i2', SMALL)
    assert {first['host'], second['host']} == {'a', 'b'}
    # Re-running a claim for the same consumer on its host claims nothing.
    again = allocations.claim('i1', 'i1', first['host'], SMALL,
                              {'vcpus': 1, 'memory_mb': 1, 'disk_gb': 1})
    assert again['id'] == first['id']
    assert allocations.usage(first['host'])['memory_mb'] == 1024


def test_no_room_is_no_valid_host(db, conf):
    conf.set_override('ram_allocation_ratio', 1.0, group='scheduler')
    _host('a', memory_mb=1024)
    host_selection.select_and_claim('i1', 'i1', SMALL)
    with pytest.raises(exception.NoValidHost):
        host_selection.select_and_claim('i2', 'i2', SMALL)
    assert allocations.release('i1') == 1
    assert allocations.release('i1') == 0
    assert host_selection.select_and_claim('i2', 'i2', SMALL)['host'] == 'a'


@pytest.fixture(params=['sqlite', 'postgresql', 'mariadb'])
def any_db(request, conf):
    """The schema on SQLite, PostgreSQL or MariaDB."""
    if request.param == 'sqlite':
        return request.getfixturevalue('db')
    url = request.getfixturevalue(
        'pg_url' if request.param == 'postgresql' else 'mysql_url')
    engine = session.configure(url)
    migration.db_sync(engine)
    return engine


def test_concurrent_claims_never_exceed_capacity(any_db, conf):
    conf.set_override('ram_allocation_ratio', 1.0, group='scheduler')
    _host('a', memory_mb=4096, vcpus=64, disk_gb=1000)
    results = []

    def boot(i):
        try:
            results.append(host_selection.select_and_claim(
                'c%d' % i, 'c%d' % i, SMALL)['host'])
        except exception.NoValidHost:
            results.append(None)

    threads = [threading.Thread(target=boot, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count('a') == 4 and results.count(None) == 8
    assert allocations.usage('a')['memory_mb'] == 4096
