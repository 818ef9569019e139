"""Server groups in the scheduler: the policy filter and weigher, and
its check in the claim's transaction under the group's lock.

The races run real threads against SQLite, PostgreSQL and MariaDB: 20
members of an anti-affinity group claimed at once on 3 hosts with room
for all of them end with exactly 3 placed, one per host.
"""

import threading

import pytest

from orchestrator import exception
from orchestrator import quota
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import server_groups
from orchestrator.scheduler import group_policy
from orchestrator.scheduler import host_selection

from flows.tasks import migrations

PROJECT = 'groups-project'
SMALL = {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}
BOOTS = 20


def _host(name, memory_mb=65536):
    hosts.heartbeat(name, host_selection.COMPUTE_BINARY)
    hosts.update_compute_node(name, 64, memory_mb, 1000)


def _group(conf, policy, rules=None):
    return server_groups.create(PROJECT, 'user', 'g-' + policy, policy,
                                rules, quota.for_project(conf, PROJECT))


def _member(group):
    instance, _action = instances.create(
        {'display_name': 'member', 'project_id': PROJECT,
         'user_id': 'user', 'flavor_id': '1',
         'flavor': {'flavorid': '1', 'vcpus': 1, 'memory_mb': 512,
                    'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'image'},
        {'request_id': 'req', 'user_id': 'user', 'project_id': PROJECT},
        server_group=group['uuid'] if group else None)
    return instance['uuid']


def _race(members):
    """select_and_claim for every member at once; {uuid: host or the
    NoValidHost}."""
    barrier = threading.Barrier(len(members))
    out = {}

    def boot(uuid):
        barrier.wait(timeout=60)
        try:
            out[uuid] = host_selection.select_and_claim(
                uuid, uuid, SMALL)['host']
        except exception.NoValidHost as e:
            out[uuid] = e

    threads = [threading.Thread(target=boot, args=(u,)) for u in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(out) == len(members)
    return out


def _placed(out):
    return sorted(h for h in out.values() if isinstance(h, str))


def test_twenty_concurrent_anti_affinity_boots_on_three_hosts(database,
                                                              conf):
    for name in ('a', 'b', 'c'):
        _host(name)
    group = _group(conf, server_groups.ANTI_AFFINITY)
    members = [_member(group) for _ in range(BOOTS)]
    out = _race(members)
    assert _placed(out) == ['a', 'b', 'c']
    failures = [e for e in out.values() if not isinstance(e, str)]
    assert len(failures) == BOOTS - 3
    for failure in failures:
        assert str(failure).startswith('No valid host was found.')
        assert "server group's anti-affinity policy" in str(failure)
    assert server_groups.member_hosts(group['uuid']) == {
        'a': 1, 'b': 1, 'c': 1}


def test_max_server_per_host_allows_that_many_per_host(database, conf):
    for name in ('a', 'b', 'c'):
        _host(name)
    group = _group(conf, server_groups.ANTI_AFFINITY,
                   {'max_server_per_host': 2})
    out = _race([_member(group) for _ in range(10)])
    assert _placed(out) == ['a', 'a', 'b', 'b', 'c', 'c']


def test_concurrent_affinity_boots_share_one_host(database, conf):
    _host('a', memory_mb=2048)
    _host('b', memory_mb=2048)
    _host('c', memory_mb=2048)
    conf.set_override('ram_allocation_ratio', 1.0, group='scheduler')
    group = _group(conf, server_groups.AFFINITY)
    out = _race([_member(group) for _ in range(8)])
    placed = _placed(out)
    # The first member's host has room for 4; the others may not go
    # elsewhere even though the other hosts are empty.
    assert len(placed) == 4 and len(set(placed)) == 1
    refused = [str(e) for e in out.values() if not isinstance(e, str)]
    assert len(refused) == 4
    assert all('affinity policy' in r or 'without room' in r
               for r in refused), refused


def test_soft_policies_weigh_and_never_fail(db, conf):
    for name in ('a', 'b', 'c'):
        _host(name)
    spread = _group(conf, server_groups.SOFT_ANTI_AFFINITY)
    hosts_of = [host_selection.select_and_claim(u, u, SMALL)['host']
                for u in [_member(spread) for _ in range(5)]]
    assert sorted(hosts_of.count(h) for h in 'abc') == [1, 2, 2]
    packed = _group(conf, server_groups.SOFT_AFFINITY)
    hosts_of = [host_selection.select_and_claim(u, u, SMALL)['host']
                for u in [_member(packed) for _ in range(5)]]
    assert len(set(hosts_of)) == 1


def test_a_move_avoids_the_other_members_hosts(db, conf):
    """A migration's claim (consumer: the migration) for a member of an
    anti-affinity group goes neither to its own host (excluded) nor to
    another member's: migrate, resize, evacuate and live migration claim
    this way."""
    for name in ('a', 'b', 'c'):
        _host(name)
    group = _group(conf, server_groups.ANTI_AFFINITY)
    first, second = _member(group), _member(group)
    assert host_selection.select_and_claim(
        first, first, SMALL, requested_host='a')['host'] == 'a'
    assert host_selection.select_and_claim(
        second, second, SMALL, requested_host='b')['host'] == 'b'
    moved = host_selection.select_and_claim('migration-1', second, SMALL,
                                            exclude=('b',))
    assert moved['host'] == 'c'
    with pytest.raises(exception.NoValidHost) as caught:
        host_selection.select_and_claim('migration-2', first, SMALL,
                                        exclude=('a',))
    # b holds the second member, c its migration's claim.
    assert ("1 excluded, 2 refused by the server group's anti-affinity "
            "policy" in str(caught.value)), str(caught.value)


def test_the_claim_rechecks_the_policy_under_the_lock(db, conf):
    """A placement that passed the unlocked filter but finds another
    member there in the claim's transaction is refused; nothing is
    written."""
    _host('a')
    group = _group(conf, server_groups.ANTI_AFFINITY)
    first, second = _member(group), _member(group)
    ratios = {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}
    allocations.claim(first, first, 'a', SMALL, ratios,
                      guard=group_policy.guard_in)
    with pytest.raises(exception.HostRefused):
        allocations.claim(second, second, 'a', SMALL, ratios,
                          guard=group_policy.guard_in)
    assert [a['consumer_uuid'] for a in allocations.list_all()] == [first]
    # Re-run of the first member's claim: its allocation, as it is.
    again = allocations.claim(first, first, 'a', SMALL, ratios,
                              guard=group_policy.guard_in)
    assert again['consumer_uuid'] == first


def test_a_deleted_member_leaves_its_group(db, conf):
    _host('a')
    group = _group(conf, server_groups.ANTI_AFFINITY)
    first, second = _member(group), _member(group)
    host_selection.select_and_claim(first, first, SMALL)
    assert server_groups.get(group['uuid'])['members'] == [first, second]
    instances.force_delete(first, {'request_id': 'req', 'user_id': 'u',
                                   'project_id': PROJECT})
    assert server_groups.get(group['uuid'])['members'] == [second]
    assert server_groups.groups_of([first, second]) == {
        first: [], second: [group['uuid']]}
    # Its host is free for the group again.
    assert host_selection.select_and_claim(second, second,
                                           SMALL)['host'] == 'a'


def test_member_quota_is_checked_in_the_create(db, conf):
    conf.set_override('server_group_members', 2, group='quota')
    group = _group(conf, server_groups.AFFINITY)
    project_quota = quota.for_project(conf, PROJECT)
    values = {'display_name': 'm', 'project_id': PROJECT,
              'user_id': 'user', 'flavor_id': '1', 'flavor': {},
              'vcpus': 1, 'memory_mb': 512, 'root_gb': 1,
              'image_ref': 'image'}
    action = {'request_id': 'req', 'user_id': 'user', 'project_id': PROJECT}
    for _ in range(2):
        instances.create(values, action, quota=project_quota,
                         server_group=group['uuid'])
    with pytest.raises(server_groups.ServerGroupMembersLimitExceeded):
        instances.create(values, action, quota=project_quota,
                         server_group=group['uuid'])
    assert len(instances.list_(project_id=PROJECT)) == 2


@pytest.mark.parametrize('policy,placed,host,passes', [
    ('anti-affinity', {'a': 1}, 'a', False),
    ('anti-affinity', {'a': 1}, 'b', True),
    ('affinity', {}, 'b', True),
    ('affinity', {'a': 2}, 'b', False),
    ('affinity', {'a': 2}, 'a', True),
    ('soft-affinity', {'a': 2}, 'b', True),
    ('soft-anti-affinity', {'a': 2}, 'a', True),
])
def test_host_passes(policy, placed, host, passes):
    group = {'policy': policy, 'rules': {}}
    assert group_policy.host_passes(group, host, placed) is passes


def test_max_server_per_host_rule():
    group = {'policy': 'anti-affinity', 'rules': {'max_server_per_host': 3}}
    assert group_policy.host_passes(group, 'a', {'a': 2})
    assert not group_policy.host_passes(group, 'a', {'a': 3})


def test_a_forced_move_is_not_constrained_by_the_group(db, conf):
    """Live migration and evacuation to a host asked for: the group's
    policy refuses a member's host, unless the move is forced (Nova's
    ``force``, which skips its scheduler); the other filters still
    apply."""
    for name in ('a', 'b', 'c'):
        _host(name)
    group = _group(conf, server_groups.ANTI_AFFINITY)
    first, second = _member(group), _member(group)
    host_selection.select_and_claim(first, first, SMALL, requested_host='a')
    host_selection.select_and_claim(second, second, SMALL,
                                    requested_host='b')
    instance = dict(instances.get(second), host='b')
    with pytest.raises(exception.NoValidHost) as caught:
        migrations.claim_other_host('move-1', instance, requested_host='a')
    assert "anti-affinity policy" in str(caught.value)
    assert migrations.claim_other_host('move-1', instance,
                                       requested_host='a',
                                       forced=True) == 'a'
    # Without a host, force means nothing: the scheduler picks c.
    assert migrations.claim_other_host('move-2', instance,
                                       forced=True) == 'c'
