"""Host selection: filters, the free-RAM weigher and atomic claims."""

import datetime
import threading

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import models
from orchestrator.db import schema
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
    schema.db_sync(engine)
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


def _zone(name, zone):
    hosts.heartbeat(name, host_selection.COMPUTE_BINARY, zone=zone)


def test_heartbeat_reports_the_zone_and_none_keeps_it(db, conf):
    _host('a')
    (service,) = hosts.list_services(host='a')
    assert service['zone'] == 'nova'
    _zone('a', 'az2')
    hosts.heartbeat('a', host_selection.COMPUTE_BINARY)
    (service,) = hosts.list_services(host='a')
    assert service['zone'] == 'az2'


def test_availability_zone_filter(db, conf):
    _host('a', memory_mb=8192)
    _host('b', memory_mb=4096)
    _host('c', memory_mb=2048)
    _zone('b', 'az2')
    _zone('c', 'az2')
    assert host_selection.candidate_hosts(SMALL) == ['a', 'b', 'c']
    assert host_selection.candidate_hosts(
        SMALL, availability_zone='az2') == ['b', 'c']
    assert host_selection.candidate_hosts(
        SMALL, availability_zone='nova') == ['a']
    with pytest.raises(exception.NoValidHost) as caught:
        host_selection.select_and_claim('i1', 'i1', SMALL,
                                         availability_zone='az9')
    assert ('3 host(s) considered for 1 vCPU, 1024 MB RAM, 10 GB disk in '
            'availability zone az9: 3 in another availability zone'
            in str(caught.value)), str(caught.value)
    assert allocations.list_all() == []


def test_pack_weigher_fills_the_fullest_host_first(db, conf):
    _host('a', memory_mb=8192)
    _host('b', memory_mb=4096)
    _host('c', memory_mb=4096)
    assert host_selection.candidate_hosts(SMALL) == ['a', 'b', 'c']
    conf.set_override('weigher', 'pack', group='scheduler')
    assert host_selection.candidate_hosts(SMALL) == ['b', 'c', 'a']
    # Packing keeps choosing the host it started filling.
    first = host_selection.select_and_claim('i1', 'i1', SMALL)['host']
    second = host_selection.select_and_claim('i2', 'i2', SMALL)['host']
    assert first == second == 'b'
    conf.set_override('weigher', 'spread', group='scheduler')
    assert host_selection.select_and_claim('i3', 'i3', SMALL)['host'] == 'a'


def test_ratios_scale_capacity(db, conf):
    _host('a', memory_mb=2048, vcpus=1, disk_gb=100)
    conf.set_override('cpu_allocation_ratio', 2.0, group='scheduler')
    conf.set_override('ram_allocation_ratio', 1.5, group='scheduler')
    # 1 vCPU x 2.0 = 2 vCPUs; 2048 MB x 1.5 = 3 claims of 1024 MB: the
    # vCPUs run out first.
    host_selection.select_and_claim('i1', 'i1', SMALL)
    host_selection.select_and_claim('i2', 'i2', SMALL)
    with pytest.raises(exception.NoValidHost) as caught:
        host_selection.select_and_claim('i3', 'i3', SMALL)
    assert '1 without room' in str(caught.value)
    conf.set_override('cpu_allocation_ratio', 4.0, group='scheduler')
    assert host_selection.select_and_claim('i3', 'i3', SMALL)['host'] == 'a'
    with pytest.raises(exception.NoValidHost):
        host_selection.select_and_claim('i4', 'i4', SMALL)


def test_alternates_are_the_next_best_hosts(db, conf):
    for name, memory in (('a', 16384), ('b', 8192), ('c', 4096),
                         ('d', 2048)):
        _host(name, memory_mb=memory)
    allocation, alternates = host_selection.select_with_alternates(
        'i1', 'i1', SMALL)
    # [scheduler] max_attempts = 3: the primary and two alternates.
    assert (allocation['host'], alternates) == ('a', ['b', 'c'])
    conf.set_override('max_attempts', 1, group='scheduler')
    allocation, alternates = host_selection.select_with_alternates(
        'i2', 'i2', SMALL)
    assert (allocation['host'], alternates) == ('a', [])
    # Only the primary is claimed.
    assert [a['host'] for a in allocations.list_all()] == ['a', 'a']


def test_a_full_best_host_is_skipped_and_not_an_alternate(db, conf,
                                                          monkeypatch):
    _host('a', memory_mb=8192)
    _host('b', memory_mb=4096)
    _host('c', memory_mb=2048)
    real_claim = allocations.claim

    def claim_while_a_fills_up(consumer, instance, host, resources,
                               ratios, guard=None):
        # Another scheduler fills host a between the filters and the
        # claim: the claim finds no room and the next host is taken.
        if host == 'a' and consumer == 'i1':
            real_claim('filler', 'filler', 'a',
                       {'vcpus': 1, 'memory_mb': 8192, 'disk_gb': 1},
                       ratios)
        return real_claim(consumer, instance, host, resources, ratios,
                          guard=guard)

    monkeypatch.setattr(allocations, 'claim', claim_while_a_fills_up)
    allocation, alternates = host_selection.select_with_alternates(
        'i1', 'i1', SMALL)
    assert (allocation['host'], alternates) == ('b', ['c'])


def test_claim_alternate_rechecks_the_filters(db, conf):
    conf.set_override('service_down_time_s', 60)
    _host('a', memory_mb=2048)
    _host('b', memory_mb=2048)
    _host('c', memory_mb=2048)
    _zone('c', 'az2')
    hosts.set_service_disabled('b', host_selection.COMPUTE_BINARY, True)
    assert host_selection.claim_alternate('i1', 'i1', 'b', SMALL) is None
    assert host_selection.claim_alternate(
        'i1', 'i1', 'c', SMALL, availability_zone='nova') is None
    _age('a', 61)
    assert host_selection.claim_alternate('i1', 'i1', 'a', SMALL) is None
    assert allocations.list_all() == []
    hosts.heartbeat('a', host_selection.COMPUTE_BINARY)
    claimed = host_selection.claim_alternate('i1', 'i1', 'a', SMALL)
    assert claimed['host'] == 'a'
    host_selection.claim_alternate('i2', 'i2', 'a', SMALL)
    # Full now.
    assert host_selection.claim_alternate('i3', 'i3', 'a', SMALL) is None
    assert allocations.usage('a')['memory_mb'] == 2048


def test_requested_host_is_the_only_candidate(db, conf):
    _host('a', memory_mb=8192)
    _host('b', memory_mb=2048)
    allocation, alternates = host_selection.select_with_alternates(
        'i1', 'i1', SMALL, requested_host='b')
    assert (allocation['host'], alternates) == ('b', [])


@pytest.mark.parametrize('setup, reason', [
    (lambda: None, 'The requested host nowhere is not a compute host'),
    (lambda: hosts.set_service_disabled(
        'b', host_selection.COMPUTE_BINARY, True),
     'The requested host b is disabled'),
    (lambda: _age('b', 61), 'The requested host b is down'),
    (lambda: _zone('b', 'az2'),
     'The requested host b is not in availability zone nova'),
    (lambda: allocations.claim(
        'other', 'other', 'b', {'vcpus': 1, 'memory_mb': 2048,
                                'disk_gb': 1},
        {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}),
     'The requested host b is without room for 1 vCPU, 1024 MB RAM, '
     '10 GB disk'),
])
def test_a_requested_host_that_does_not_pass_is_no_valid_host(
        db, conf, setup, reason):
    conf.set_override('service_down_time_s', 60)
    _host('a', memory_mb=8192)
    _host('b', memory_mb=2048)
    setup()
    requested = 'nowhere' if 'nowhere' in reason else 'b'
    before = allocations.list_all()
    with pytest.raises(exception.NoValidHost) as caught:
        host_selection.select_with_alternates(
            'i1', 'i1', SMALL, availability_zone='nova',
            requested_host=requested)
    assert reason in str(caught.value), str(caught.value)
    assert 'No valid host was found' in str(caught.value)
    assert allocations.list_all() == before


def test_select_and_claim_keeps_its_signature_for_migrations(db, conf):
    """Resize and migrations call select_and_claim(consumer, instance,
    resources, exclude=...) with a migration as the consumer."""
    _host('a', memory_mb=8192)
    _host('b', memory_mb=4096)
    allocation = host_selection.select_and_claim(
        'migration-1', 'i1', SMALL, exclude=('a',))
    assert allocation['host'] == 'b'
    assert allocation['consumer_uuid'] == 'migration-1'
    assert allocation['instance_uuid'] == 'i1'


TINY = {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}


def test_fifty_concurrent_boots_fill_exactly_ten_places(any_db, conf):
    """50 boots race for room for exactly 10 tiny instances on three
    hosts (2 + 4 + 4 with the RAM ratio): exactly 10 claims win, 40 get
    NoValidHost, and a sampler never sees a host past its capacity."""
    conf.set_override('ram_allocation_ratio', 2.0, group='scheduler')
    _host('a', memory_mb=512, vcpus=64, disk_gb=1000)
    _host('b', memory_mb=1024, vcpus=64, disk_gb=1000)
    _host('c', memory_mb=1024, vcpus=64, disk_gb=1000)
    limits = {n['host']: n['memory_mb'] * 2.0
              for n in hosts.list_compute_nodes()}
    barrier = threading.Barrier(50)
    done = threading.Event()
    results = []
    samples = []
    over = []

    def boot(i):
        consumer = 'boot-%d' % i
        barrier.wait(timeout=30)
        try:
            allocation, _alts = host_selection.select_with_alternates(
                consumer, consumer, TINY)
            results.append(allocation['host'])
        except exception.NoValidHost as e:
            results.append(str(e))

    def sample():
        while not done.is_set():
            usage = allocations.usage_by_host()
            samples.append(usage)
            over.extend((host, used['memory_mb'])
                        for host, used in usage.items()
                        if used['memory_mb'] > limits[host])

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=boot, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), 'a boot hung'
    done.set()
    sampler.join(30)
    placed = [r for r in results if r in limits]
    refused = [r for r in results if r not in limits]
    assert len(placed) == 10 and len(refused) == 40, results
    assert {h: placed.count(h) for h in limits} == {'a': 2, 'b': 4, 'c': 4}
    assert all('No valid host' in r for r in refused), refused
    assert over == []
    assert len(samples) > 1
    assert allocations.usage_by_host() == {
        'a': {'vcpus': 2, 'memory_mb': 1024, 'disk_gb': 2},
        'b': {'vcpus': 4, 'memory_mb': 2048, 'disk_gb': 4},
        'c': {'vcpus': 4, 'memory_mb': 2048, 'disk_gb': 4}}
