"""A delete (hard, force, soft then reclaimed) leaves nothing of the
server anywhere, whatever its resize or live migration was doing: no
allocation (its own or its migrations'), no migration in progress or
waiting, no guest on any host involved (issue 10, item 2). And actions
that need a host are refused on a server that never got one (item 9).

The functional fixtures check the whole invariant after each test
(:mod:`tests.functional.conftest`); the tests also say what they expect.
"""

import pytest

from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session

from tests.functional import api_helpers as h
from tests.waiting import wait_for

SMALL = '2'


def _migration(server_id):
    return migration_records.list_(instance_uuid=server_id)[0]


def _flow_ended(server_id, name):
    """Wait until the server's newest action ``name`` finished (its flow
    ended, rolled back or not); returns it."""
    def finished():
        found = [a for a in actions.list_for_instance(server_id)
                 if a['action'] == name]
        return found[0] if found and found[0]['finish_time'] else None
    return wait_for(finished, timeout=60, what='%s to end' % name)


def _gone(system, server_id):
    wait_for(lambda: h.api(system, 'GET', '/v2.1/servers/' + server_id)
             .status_code == 404, timeout=60, what='the server to go')


def _usage(system):
    """{host: memory_mb_used} as os-hypervisors/detail shows it."""
    body = h.api(system, 'GET', '/v2.1/os-hypervisors/detail').json()
    return {hv['hypervisor_hostname']: hv['memory_mb_used']
            for hv in body['hypervisors']}


def _nothing_left(system, server_id):
    """No allocation, leftover or unended migration of the server, and
    the hypervisors show no usage (it was the only server)."""
    wait_for(lambda: not h.host_leftovers(system, server_id),
             timeout=30, what='no leftovers of the server')
    assert allocations.list_for_instance(server_id) == []
    assert set(_usage(system).values()) == {0}, _usage(system)
    for m in migration_records.list_(instance_uuid=server_id):
        assert m['status'] in states.MIGRATION_FINAL_STATUSES, m


def _verify_resize(system):
    """A server resized to SMALL, waiting in VERIFY_RESIZE: (server id,
    source host, destination host)."""
    server_id = h.boot(system)
    source = h.server(system, server_id)['OS-EXT-SRV-ATTR:host']
    h.act(system, server_id, {'resize': {'flavorRef': SMALL}})
    dest = h.wait_stable(system, server_id,
                         'VERIFY_RESIZE')['OS-EXT-SRV-ATTR:host']
    assert dest != source
    # Both hosts hold it: the guest kept on the source and its claim.
    assert sorted(h.host_leftovers(system, server_id, ('guests',))) == \
        sorted([(source, 'guests'), (dest, 'guests')])
    assert {a['host'] for a in allocations.list_for_instance(server_id)} \
        == {source, dest}
    return server_id, source, dest


# -- VERIFY_RESIZE ------------------------------------------------------------

def test_delete_in_verify_resize_releases_both_hosts(api_system):
    server_id, _source, _dest = _verify_resize(api_system)
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    _gone(api_system, server_id)
    _nothing_left(api_system, server_id)
    assert _migration(server_id)['status'] == states.MIGRATION_CANCELLED


def test_force_delete_in_verify_resize_releases_both_hosts(api_system):
    server_id, _source, _dest = _verify_resize(api_system)
    h.act(api_system, server_id, {'forceDelete': None})
    _gone(api_system, server_id)
    wait_for(lambda: _migration(server_id)['status']
             == states.MIGRATION_CANCELLED, timeout=30,
             what='the migration cancelled')
    _nothing_left(api_system, server_id)


@pytest.fixture
def reclaim_conf(conf):
    """Soft delete on, the reclaim periodic checking often (its interval
    is read at start); nothing is due until a test shortens
    reclaim_instance_interval_s (read at every run)."""
    conf.set_override('reclaim_instance_interval_s', 3600)
    conf.set_override('reclaim_check_interval_s', 0.3, group='conductor')
    return conf


def test_soft_delete_in_verify_resize_confirms_then_reclaim_frees_all(
        reclaim_conf, api_system):
    server_id, source, dest = _verify_resize(api_system)
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    after = h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    # Confirmed first (as Nova does): the destination alone keeps the
    # server, powered off, with its new flavor's claim; the source is
    # free for ever after.
    assert after['OS-EXT-SRV-ATTR:host'] == dest
    assert _migration(server_id)['status'] == states.MIGRATION_CONFIRMED
    assert h.host_leftovers(api_system, server_id, ('guests',)) == [
        (dest, 'guests')]
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.SHUTDOWN
    assert [(a['host'], a['consumer_uuid']) for a in
            allocations.list_for_instance(server_id)] == [(dest, server_id)]
    assert _usage(api_system)[source] == 0
    # The reclaim deletes it for good: nothing left anywhere.
    reclaim_conf.set_override('reclaim_instance_interval_s', 0.5)
    _gone(api_system, server_id)
    _nothing_left(api_system, server_id)


def test_soft_deleted_resized_server_restores_on_its_destination(
        reclaim_conf, api_system):
    server_id, _source, dest = _verify_resize(api_system)
    h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    h.act(api_system, server_id, {'restore': None})
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == dest
    assert after['flavor']['original_name'] == 'm1.small'
    assert h.guest(api_system, server_id)[0] == dest


# -- live migration -----------------------------------------------------------

def _live_migrate(system, server_id):
    h.act(system, server_id, {'os-migrateLive': {
        'host': None, 'block_migration': 'auto'}})
    return _migration(server_id)


def test_delete_during_the_live_migration_copy_leaves_nothing(api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'live_migration': {'delay_s': 3.0}})
    migration = _live_migrate(api_system, server_id)
    wait_for(lambda: migration_records.get(migration['uuid'])[
        'memory_processed'], timeout=60, interval=0.02, what='the copy')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    _gone(api_system, server_id)
    assert _flow_ended(server_id, 'live-migration')['result'] == \
        states.RESULT_ERROR
    _nothing_left(api_system, server_id)
    # Stopped by the delete before its point of no return: cancelled,
    # its rollback removed the incoming guest.
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_CANCELLED


def test_delete_past_the_live_migration_commit_leaves_nothing(api_system):
    """The destination keeps failing to take the guest over (the flow
    retries past its point of no return); a DELETE preempts it: the
    flow's rollback undoes nothing, the delete destroys on both hosts,
    releases the migration's claim and ends it in error."""
    server_id = h.boot(api_system)
    h.inject(api_system, {'post_live_migration_at_destination': {
        'fault': 'raise', 'delay_s': 1.0}})
    migration = _live_migrate(api_system, server_id)
    wait_for(lambda: migration_records.get(migration['uuid'])['status']
             == states.MIGRATION_POST_MIGRATING, timeout=60,
             interval=0.02, what='the point of no return')
    wait_for(lambda: h.calls(api_system,
                             'post_live_migration_at_destination') >= 1,
             timeout=30, what='the destination to fail once')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    _gone(api_system, server_id)
    assert _flow_ended(server_id, 'live-migration')['result'] == \
        states.RESULT_ERROR
    h.inject(api_system, {})
    _nothing_left(api_system, server_id)
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_ERROR


# -- a server that never got a host -------------------------------------------

def test_host_actions_on_a_server_without_host_are_refused(api_system):
    with session.writer() as s:
        s.add(models.Flavor(flavorid='huge', name='huge', vcpus=1,
                            memory_mb=10 ** 6, root_gb=1, extra_specs={}))
    # No host can take it; the project's quota may (else a 403 first).
    resp = h.api(api_system, 'PUT', '/v2.1/os-quota-sets/default',
                 json={'quota_set': {'ram': -1}})
    assert resp.status_code == 200, resp.text
    image = h.api(api_system, 'GET', '/image/v2/images').json()['images'][0]
    resp = h.api(api_system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'nowhere', 'flavorRef': 'huge', 'imageRef': image['id'],
        'networks': 'none'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    after = h.wait_stable(api_system, server_id, 'ERROR')
    assert after['OS-EXT-SRV-ATTR:host'] is None
    for body in ({'os-stop': None}, {'reboot': {'type': 'HARD'}}):
        resp = h.act(api_system, server_id, body, expect=409)
        assert 'the server has no host' in resp.json()[
            'conflictingRequest']['message'], resp.text
    after = h.server(api_system, server_id)
    assert (after['status'], after['OS-EXT-STS:task_state']) == (
        'ERROR', None)
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    _gone(api_system, server_id)


def test_delete_during_a_backup_leaves_no_image_nor_snapshot(api_system):
    """The backup's flow is preempted: its rollback still deletes the
    image it was making and the host's copy; the other backups stay."""
    server_id = h.boot(api_system)
    body = {'createBackup': {'name': 'b', 'backup_type': 'daily',
                             'rotation': 2}}
    kept = h.act(api_system, server_id, body).json()['image_id']
    h.wait_stable(api_system, server_id, 'ACTIVE')
    h.inject(api_system, {'upload_snapshot': {'delay_s': 3.0}})
    doomed = h.act(api_system, server_id, body).json()['image_id']
    wait_for(lambda: h.server(api_system, server_id)[
        'OS-EXT-STS:task_state'] == 'image_uploading', timeout=30,
        what='the upload')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    _gone(api_system, server_id)
    _flow_ended(server_id, 'createBackup')
    wait_for(lambda: h.api(api_system, 'GET', '/image/v2/images/' + doomed)
             .status_code == 404, timeout=30, what='the image to go')
    assert h.api(api_system, 'GET', '/image/v2/images/' + kept).json()[
        'status'] == 'active'
    for compute in api_system.computes:
        assert compute.driver.host_state()['snapshots'] == {}
    _nothing_left(api_system, server_id)


# -- shelved and shelved_offloaded ------------------------------------------

@pytest.fixture
def keep_shelved_conf(conf):
    """A shelve leaves the server shelved (no offload of its own)."""
    conf.set_override('shelved_offload_time', -1)
    return conf


def _shelved_image(system, server_id):
    name = h.server(system, server_id)['name'] + '-shelved'
    found = [i for i in h.api(system, 'GET', '/image/v2/images').json()[
        'images'] if i['name'] == name]
    return found[0]['id'] if found else None


def test_delete_of_shelved_and_offloaded_servers_leaves_nothing(
        keep_shelved_conf, api_system):
    """A shelved server (guest off on its host, capacity held) and an
    offloaded one (no host, no capacity, still counted in the quota)
    are deleted with their shelved images; an unshelve of a shelved one
    just powers it on."""
    first = h.boot(api_system, name='shelf-a')
    second = h.boot(api_system, name='shelf-b')
    for server_id in (first, second):
        h.act(api_system, server_id, {'shelve': None})
        h.wait_stable(api_system, server_id, 'SHELVED')
    host = h.server(api_system, first)['OS-EXT-SRV-ATTR:host']
    assert h.guest(api_system, first)[0] == host
    assert h.guest(api_system, first)[1]['power_state'] == states.SHUTDOWN

    h.act(api_system, first, {'unshelve': None})
    h.wait_stable(api_system, first, 'ACTIVE')
    assert h.server(api_system, first)['OS-EXT-SRV-ATTR:host'] == host
    assert _shelved_image(api_system, first) is None
    h.act(api_system, first, {'shelve': None})
    h.wait_stable(api_system, first, 'SHELVED')

    h.act(api_system, second, {'shelveOffload': None})
    offloaded = h.wait_stable(api_system, second, 'SHELVED_OFFLOADED')
    assert offloaded['OS-EXT-SRV-ATTR:host'] is None
    assert allocations.list_for_instance(second) == []
    assert not h.host_leftovers(api_system, second)
    used = h.api(api_system, 'GET', '/v2.1/limits').json()['limits'][
        'absolute']
    assert used['totalInstancesUsed'] == 2, used

    images = [_shelved_image(api_system, s) for s in (first, second)]
    assert all(images), images
    for server_id in (first, second):
        assert h.api(api_system, 'DELETE',
                     '/v2.1/servers/' + server_id).status_code == 204
    for server_id in (first, second):
        _gone(api_system, server_id)
    for server_id in (first, second):
        _nothing_left(api_system, server_id)
    for image_id in images:
        assert h.api(api_system, 'GET', '/image/v2/images/' + image_id
                     ).status_code == 404
