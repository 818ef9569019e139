"""Live migration over HTTP on the all-in-one: the happy path, a failure
at every step, an abort in every phase, and the migrations API.

Every test ends with the invariant (:mod:`tests.functional.invariants`):
each guest on exactly one host, its instance's; allocations equal to
the flavors of the instances on each host; no migration left in
progress.
"""

import pytest

from orchestrator import context as orch_context
from orchestrator import states
from orchestrator.api import operations
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records

from tests.functional import api_helpers as h
from tests.functional import invariants
from tests.waiting import wait_for

@pytest.fixture(autouse=True)
def _invariant_after(api_system):
    """Check the invariant after every test of this module (before the
    system stops)."""
    yield
    invariants.check_system(api_system)


def _live_migrate(system, server_id, host=None, expect=202, **extra):
    body = {'os-migrateLive': dict({'host': host,
                                    'block_migration': 'auto'}, **extra)}
    return h.act(system, server_id, body, expect=expect)


def _migration(server_id):
    """The server's newest migration record."""
    return migration_records.list_(instance_uuid=server_id)[0]


def _finished(server_id, name='live-migration'):
    """The server's newest action ``name``, once its flow ended."""
    def finished():
        found = [a for a in actions.list_for_instance(server_id)
                 if a['action'] == name]
        return found[0] if found and found[0]['finish_time'] else None
    return wait_for(finished, timeout=60, what='%s to finish' % name)


def _events(action):
    return [e['event'] for e in actions.events_for(action['id'])]


def _host(system, server_id):
    return h.server(system, server_id)['OS-EXT-SRV-ATTR:host']


def _fault(server_id):
    return instances.latest_fault(server_id)['message']


def _status(migration_uuid):
    return migration_records.get(migration_uuid)['status']


def _wait_status(migration_uuid, status, timeout=30):
    wait_for(lambda: _status(migration_uuid) == status, timeout=timeout,
             interval=0.02, what='migration %s' % status)


# -- the happy path ---------------------------------------------------------

def test_live_migration_moves_the_running_guest(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {'live_migration': {'delay_s': 1.0}})
    _live_migrate(api_system, server_id)
    seen = h.status_pairs_until(api_system, server_id, 'ACTIVE')
    assert ('MIGRATING', states.MIGRATING) in seen, seen
    action = _finished(server_id)
    assert action['result'] == states.RESULT_SUCCESS, action
    after = h.server(api_system, server_id)
    dest = after['OS-EXT-SRV-ATTR:host']
    assert dest != source and after['status'] == 'ACTIVE'
    assert after['progress'] == 100
    host, guest = h.guest(api_system, server_id)
    assert host == dest and guest['power_state'] == states.RUNNING
    assert 'live_migration' not in guest
    migration = _migration(server_id)
    assert migration['status'] == states.MIGRATION_COMPLETED
    assert (migration['source_compute'], migration['dest_compute']) == (
        source, dest)
    memory = h.server(api_system, server_id)['flavor']['ram'] * 1024 * 1024
    assert migration['memory_total'] == memory
    assert migration['memory_processed'] == memory
    assert migration['memory_remaining'] == 0
    assert _events(action) == [
        'LiveMigrationSentinel', 'ClaimLiveMigrationDestination',
        'CheckLiveMigrationDestination', 'CheckLiveMigrationSource',
        'PreLiveMigration', 'LiveMigrationOnSource', 'CommitToDestination',
        'RollForward', 'PostLiveMigrationAtDestination',
        'SwitchInstanceHost', 'PostLiveMigrationAtSource',
        'FinishLiveMigration']


def test_live_migration_to_the_requested_host_and_back(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    others = sorted(c.host for c in api_system.computes
                    if c.host != source)
    _live_migrate(api_system, server_id, host=others[-1])
    _finished(server_id)
    assert _host(api_system, server_id) == others[-1]
    invariants.check_system(api_system)
    _live_migrate(api_system, server_id, host=source)
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    assert _host(api_system, server_id) == source
    assert h.guest(api_system, server_id)[0] == source


def test_a_paused_server_stays_paused_on_its_new_host(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'pause': None})
    h.wait_stable(api_system, server_id, 'PAUSED')
    source = _host(api_system, server_id)
    _live_migrate(api_system, server_id)
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    after = h.wait_stable(api_system, server_id, 'PAUSED')
    assert after['OS-EXT-SRV-ATTR:host'] != source
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.POWER_PAUSED


def test_progress_is_shown_while_the_memory_is_copied(api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'live_migration': {'delay_s': 4.0}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)

    def copying():
        found = h.api(api_system, 'GET',
                      '/v2.1/servers/%s/migrations' % server_id).json()[
            'migrations']
        return found if found and found[0][
            'memory_processed_bytes'] else None

    listed = wait_for(copying, timeout=30, interval=0.05,
                      what='progress of the copy')[0]
    assert listed['id'] == migration['id']
    assert listed['status'] == states.MIGRATION_RUNNING
    assert 0 < listed['memory_processed_bytes'] < listed[
        'memory_total_bytes']
    assert listed['server_uuid'] == server_id
    shown = h.api(api_system, 'GET', '/v2.1/servers/%s/migrations/%d'
                  % (server_id, migration['id'])).json()['migration']
    assert shown['id'] == migration['id']
    assert 0 < h.server(api_system, server_id)['progress'] < 100
    h.inject(api_system, {})
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    # Not in progress any more: neither listed nor shown.
    assert h.api(api_system, 'GET', '/v2.1/servers/%s/migrations'
                 % server_id).json()['migrations'] == []
    assert h.api(api_system, 'GET', '/v2.1/servers/%s/migrations/%d'
                 % (server_id, migration['id'])).status_code == 404


# -- failures before the point of no return ----------------------------------

#: Host steps before the point of no return: a failure in any is rolled
#: back, whether it came before or after the host changed anything.
STEPS_BEFORE_RETURN = ['check_can_live_migrate_destination',
                       'check_can_live_migrate_source',
                       'pre_live_migration', 'live_migration']


@pytest.mark.parametrize('when', ['before', 'after'])
@pytest.mark.parametrize('method', STEPS_BEFORE_RETURN)
def test_failure_before_the_point_of_no_return_is_rolled_back(
        api_system, method, when):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {method: {'fault': 'raise', 'when': when}})
    _live_migrate(api_system, server_id)
    action = _finished(server_id)
    assert action['result'] == states.RESULT_ERROR
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert 'Injected fault in %s' % method in _fault(server_id)
    host, guest = h.guest(api_system, server_id)
    assert host == source and guest['power_state'] == states.RUNNING
    assert _migration(server_id)['status'] == states.MIGRATION_FAILED
    # The server can live-migrate again once the host is fixed.
    h.inject(api_system, {})
    _live_migrate(api_system, server_id)
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS
    assert _host(api_system, server_id) != source


def test_no_host_with_room_is_rolled_back(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    for compute in api_system.computes:
        if compute.host != source:
            hosts.set_service_disabled(compute.host, 'orchestrator-compute',
                                       True, 'test')
    _live_migrate(api_system, server_id)
    action = _finished(server_id)
    assert action['result'] == states.RESULT_ERROR
    assert 'No valid host' in _fault(server_id)
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert _migration(server_id)['status'] == states.MIGRATION_FAILED
    assert h.calls(api_system, 'pre_live_migration') == 0


# -- failures past the point of no return ------------------------------------

@pytest.mark.parametrize('when', ['before', 'after'])
@pytest.mark.parametrize('method', ['post_live_migration_at_destination',
                                    'post_live_migration'])
def test_failure_past_the_point_of_no_return_rolls_forward(
        api_system, method, when):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {method: {'fault': 'raise', 'when': when}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)
    # The step is retried, never undone.
    wait_for(lambda: h.calls(api_system, method) >= 2, timeout=90,
             what='%s retried' % method)
    assert _status(migration['uuid']) == states.MIGRATION_POST_MIGRATING
    assert h.server(api_system, server_id)['status'] == 'MIGRATING'
    assert h.calls(api_system, 'rollback_live_migration') == 0
    # An abort is refused now.
    resp = h.api(api_system, 'DELETE', '/v2.1/servers/%s/migrations/%d'
                 % (server_id, migration['id']))
    assert resp.status_code == 400, resp.text
    assert 'post-migrating' in resp.json()['badRequest']['message']
    h.inject(api_system, {})
    action = _finished(server_id)
    assert action['result'] == states.RESULT_SUCCESS
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] != source
    assert _status(migration['uuid']) == states.MIGRATION_COMPLETED
    assert any(e.startswith(('PostLiveMigrationAtDestination (attempt',
                             'PostLiveMigrationAtSource (attempt'))
               for e in _events(action)), _events(action)


# -- aborts ---------------------------------------------------------------

def _abort(system, server_id, migration_id, expect=202, version='2.65'):
    """DELETE the migration at ``version`` (2.65: a queued or preparing
    one may be aborted)."""
    resp = h.api(system, 'DELETE', '/v2.1/servers/%s/migrations/%s'
                 % (server_id, migration_id),
                 headers={'OpenStack-API-Version': 'compute ' + version})
    assert resp.status_code == expect, resp.text
    return resp


def _assert_aborted(system, server_id, source, migration_uuid):
    action = _finished(server_id)
    assert action['result'] == states.RESULT_ERROR
    after = h.wait_stable(system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert 'was aborted' in _fault(server_id)
    assert _status(migration_uuid) == states.MIGRATION_CANCELLED
    host, guest = h.guest(system, server_id)
    assert host == source and guest['power_state'] == states.RUNNING
    assert 'live_migration' not in guest
    names = [a['action'] for a in actions.list_for_instance(server_id)]
    assert 'live-migration-abort' in names


def test_abort_while_queued_stops_before_anything_is_done(api_system):
    """The migration is cancelled before a conductor took its job: the
    flow finds it cancelled at its first step."""
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    ctxt = orch_context.get_admin_context()
    instance, act = instances.claim(server_id, 'live-migration', {
        'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
        'project_id': ctxt.project_id})
    migration = migration_records.create(
        server_id, 'live-migration', states.MIGRATION_QUEUED,
        source_compute=source)
    # Before 2.65 a queued migration cannot be aborted (as Nova).
    resp = _abort(api_system, server_id, migration['id'], expect=400,
                  version='2.64')
    assert 'queued' in resp.json()['badRequest']['message']
    _abort(api_system, server_id, migration['id'])
    operations.start(ctxt, 'start_action', instance, act,
                     operation='live-migration',
                     params={'migration_uuid': migration['uuid'],
                             'host': None})
    _assert_aborted(api_system, server_id, source, migration['uuid'])
    assert h.calls(api_system, 'check_can_live_migrate_destination') == 0


@pytest.mark.parametrize('method', ['check_can_live_migrate_destination',
                                    'pre_live_migration'])
def test_abort_while_preparing_is_rolled_back(api_system, method):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {method: {'delay_s': 1.5}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)
    wait_for(lambda: h.calls(api_system, method) >= 1, timeout=60,
             interval=0.02, what=method)
    assert _status(migration['uuid']) == states.MIGRATION_PREPARING
    _abort(api_system, server_id, migration['id'])
    _assert_aborted(api_system, server_id, source, migration['uuid'])
    assert h.calls(api_system, 'live_migration') == 0


def test_abort_while_running_stops_the_copy(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {'live_migration': {'delay_s': 8.0}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)
    wait_for(lambda: migration_records.get(migration['uuid'])[
        'memory_processed'], timeout=60, interval=0.02, what='the copy')
    _abort(api_system, server_id, migration['id'])
    _assert_aborted(api_system, server_id, source, migration['uuid'])
    stopped = migration_records.get(migration['uuid'])
    assert stopped['memory_processed'] < stopped['memory_total']
    assert h.calls(api_system, 'live_migration_abort') == 1
    assert h.calls(api_system, 'rollback_live_migration_at_destination') \
        == 1


def test_abort_refusals(api_system):
    server_id = h.boot(api_system)
    # Not live-migrating: 409.
    _abort(api_system, server_id, 1, expect=409)
    h.inject(api_system, {'live_migration': {'delay_s': 3.0}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)
    # No such migration of this server: 404.
    _abort(api_system, server_id, migration['id'] + 1000, expect=404)
    _abort(api_system, server_id, 'x', expect=404)
    # Below 2.24 the route does not exist.
    resp = h.api(api_system, 'DELETE', '/v2.1/servers/%s/migrations/%d'
                 % (server_id, migration['id']),
                 headers={'OpenStack-API-Version': 'compute 2.23'})
    assert resp.status_code == 404
    _abort(api_system, server_id, migration['id'])
    # A second abort finds it cancelled: 400.
    resp = _abort(api_system, server_id, migration['id'], expect=400)
    assert 'cancelled' in resp.json()['badRequest']['message']
    h.inject(api_system, {})
    _finished(server_id)
    h.wait_stable(api_system, server_id, 'ACTIVE')


# -- requests refused before anything starts ---------------------------------

def test_refused_requests(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    other = next(c.host for c in api_system.computes if c.host != source)
    resp = _live_migrate(api_system, server_id, host='no-such-host',
                         expect=400)
    assert 'could not be found' in resp.text
    resp = _live_migrate(api_system, server_id, host=source, expect=400)
    assert 'current host' in resp.text
    # disk_over_commit is gone from 2.25.
    _live_migrate(api_system, server_id, host=other, expect=400,
                  disk_over_commit=False)
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'SHUTOFF')
    resp = _live_migrate(api_system, server_id, expect=409)
    assert 'vm_state stopped' in resp.text
    assert migration_records.list_(instance_uuid=server_id) == []


def test_before_2_25_the_old_body_is_required(api_system):
    server_id = h.boot(api_system)
    old = {'OpenStack-API-Version': 'compute 2.1'}
    resp = h.api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                 json={'os-migrateLive': {'host': None,
                                          'block_migration': 'auto'}},
                 headers=old)
    assert resp.status_code == 400, resp.text
    resp = h.api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                 json={'os-migrateLive': {'host': None,
                                          'block_migration': False,
                                          'disk_over_commit': False}},
                 headers=old)
    assert resp.status_code == 202, resp.text
    assert _finished(server_id)['result'] == states.RESULT_SUCCESS


# -- /os-migrations -----------------------------------------------------------

def test_os_migrations_lists_and_filters(api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    _live_migrate(api_system, server_id)
    _finished(server_id)
    migration = _migration(server_id)
    listed = h.api(api_system, 'GET', '/v2.1/os-migrations').json()[
        'migrations']
    assert [m['id'] for m in listed] == [migration['id']]
    body = listed[0]
    assert body['instance_uuid'] == server_id
    assert body['status'] == 'completed'
    assert body['migration_type'] == 'live-migration'
    assert body['source_compute'] == source
    assert body['dest_compute'] == _host(api_system, server_id)
    assert body['old_instance_type_id'] == body['new_instance_type_id']
    assert 'links' not in body  # not in progress
    for query, count in [('?host=%s' % source, 1),
                         ('?status=completed', 1), ('?status=running', 0),
                         ('?instance_uuid=%s' % server_id, 1),
                         ('?migration_type=evacuation', 0),
                         ('?source_compute=%s' % source, 1)]:
        found = h.api(api_system, 'GET', '/v2.1/os-migrations' + query)
        assert len(found.json()['migrations']) == count, query
    old = h.api(api_system, 'GET', '/v2.1/os-migrations',
                headers={'OpenStack-API-Version': 'compute 2.22'}).json()
    assert 'migration_type' not in old['migrations'][0]
    assert h.api(api_system, 'GET', '/v2.1/servers/%s/migrations'
                 % server_id, headers={
                     'OpenStack-API-Version': 'compute 2.22'}
                 ).status_code == 404


# -- preemption -------------------------------------------------------------

def test_force_delete_during_the_copy_leaves_nothing_anywhere(api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'live_migration': {'delay_s': 4.0}})
    _live_migrate(api_system, server_id)
    migration = _migration(server_id)
    wait_for(lambda: migration_records.get(migration['uuid'])[
        'memory_processed'], timeout=60, interval=0.02, what='the copy')
    h.act(api_system, server_id, {'forceDelete': None})
    action = _finished(server_id)
    assert action['result'] == states.RESULT_ERROR
    wait_for(lambda: not h.host_leftovers(api_system, server_id),
             timeout=30, what='no leftovers of the server')
    # The force delete's cleanup ended it (its first step, while the copy
    # still ran): cancelled by the delete, not failed.
    assert _status(migration['uuid']) == states.MIGRATION_CANCELLED
    assert allocations.list_for_instance(server_id) == []
    assert h.api(api_system, 'GET', '/v2.1/servers/' + server_id
                 ).status_code == 404


def test_a_rollback_that_fails_ends_in_error_and_says_what_is_left(
        api_system):
    server_id = h.boot(api_system)
    source = _host(api_system, server_id)
    h.inject(api_system, {'live_migration': 'raise',
                          'rollback_live_migration_at_destination': 'raise'})
    _live_migrate(api_system, server_id)
    assert _finished(server_id)['result'] == states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'ERROR')
    assert 'Rollback failed' in _fault(server_id)
    migration = _migration(server_id)
    assert migration['status'] == states.MIGRATION_ERROR
    dest = migration['dest_compute']
    assert h.guest(api_system, server_id)[0] in (source, dest)
    # What the failed rollback left is exactly what the invariant shows:
    # the incoming guest on the destination and the claim there.
    system_hosts = {c.host: c.driver.host_state()
                    for c in api_system.computes}
    found = invariants.problems(
        instances.list_(read_deleted=True), allocations.list_all(),
        migration_records.list_(), system_hosts)
    assert sorted(found) == sorted(
        ['%s of instance %s (on %s) left on %s' % (key, server_id, source,
                                                   dest)
         for key in ('guests', 'networks', 'block_devices')]
        + ['migration %s (error) still holds an allocation on %s'
           % (migration['uuid'], dest)]), found
    # An administrator cleans up (the invariant is checked after).
    h.inject(api_system, {})
    compute = next(c for c in api_system.computes if c.host == dest)
    compute.driver.rollback_live_migration_at_destination(
        {'uuid': server_id}, migration['uuid'])
    allocations.release(migration['uuid'])
