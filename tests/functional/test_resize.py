"""Resize, confirm, revert and cold migration over HTTP on the
all-in-one (3 fake hosts), with a failure injected at every host step.

After every operation, whether it succeeded or rolled back, the system
invariant holds (see :func:`check_invariant`).
"""

import pytest

from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.db import migration_records

from tests.functional import api_helpers as h
from tests.functional import systems
from tests.waiting import wait_for

TINY, SMALL = '1', '2'


def check_invariant(system):
    """Each guest runs on exactly one host, its instance's host; no guest
    without a live instance; allocations on each host equal the flavors
    of the instances there (plus a waiting migration's claim on its
    destination); every migration final or waiting for confirm."""
    live = {i['uuid']: i for i in instances.list_()}
    running = {}
    for compute in system.computes:
        for uuid, guest in compute.driver.host_state()['guests'].items():
            assert uuid in live, ('orphan guest', compute.host, uuid)
            if guest['power_state'] == states.RUNNING:
                running.setdefault(uuid, []).append(compute.host)
    for uuid, where in running.items():
        assert where == [live[uuid]['host']], (uuid, where)
    waiting = {}
    for m in migration_records.list_():
        assert (m['status'] in states.MIGRATION_FINAL_STATUSES
                or m['status'] in states.MIGRATION_WAITING_STATUSES), m
        if m['status'] == states.MIGRATION_FINISHED:
            waiting[m['uuid']] = m
    expected = {}
    for uuid, inst in live.items():
        if inst['host']:
            expected.setdefault(inst['host'], []).append(
                (uuid, inst['memory_mb']))
    for m in waiting.values():
        expected.setdefault(m['source_compute'], []).append(
            (m['instance_uuid'], m['old_flavor']['memory_mb']))
        expected[m['dest_compute']] = [
            e for e in expected.get(m['dest_compute'], [])
            if e[0] != m['instance_uuid']] + [
                (m['uuid'], m['new_flavor']['memory_mb'])]
    held = {}
    for a in allocations.list_all():
        held.setdefault(a['host'], []).append(
            (a['consumer_uuid'], a['memory_mb']))
    assert {k: sorted(v) for k, v in held.items()} == {
        k: sorted(v) for k, v in expected.items() if v}


def _migration(server_id):
    return migration_records.list_(instance_uuid=server_id)[0]


def _action(server_id, name):
    def finished():
        found = [a for a in actions.list_for_instance(server_id)
                 if a['action'] == name and a['finish_time']]
        return found[0] if found else None
    return wait_for(finished, timeout=30, what='%s to finish' % name)


def _resize(system, server_id, flavor=SMALL):
    h.act(system, server_id, {'resize': {'flavorRef': flavor}})


def test_resize_then_confirm(api_system):
    server_id = h.boot(api_system)
    source = h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    h.inject(api_system, {'migrate_disk_and_power_off': {'delay_s': 0.3},
                          'finish_migration': {'delay_s': 0.3}})
    _resize(api_system, server_id)
    seen = h.status_pairs_until(api_system, server_id, 'VERIFY_RESIZE')
    order = [states.RESIZE_PREP, states.RESIZE_MIGRATING,
             states.RESIZE_MIGRATED, states.RESIZE_FINISH, None]
    observed = [t for _s, t in seen]
    # In order, none other; the states the delayed host calls hold are
    # seen. resize_migrated lasts from one step's end to the next step's
    # start (no host call): a few ms, which polls may fall between.
    assert observed == sorted(observed, key=order.index), seen
    assert {states.RESIZE_MIGRATING, states.RESIZE_FINISH,
            None} <= set(observed), seen
    assert {s for s, _t in seen} == {'RESIZE', 'VERIFY_RESIZE'}
    after = h.server(api_system, server_id)
    dest = after['OS-EXT-SRV-ATTR:host']
    assert dest != source and after['flavor']['original_name'] == 'm1.small'
    migration = _migration(server_id)
    assert migration['status'] == states.MIGRATION_FINISHED
    assert (migration['source_compute'], migration['dest_compute']) == (
        source, dest)
    check_invariant(api_system)
    h.act(api_system, server_id, {'confirmResize': None}, expect=204)
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert _migration(server_id)['status'] == states.MIGRATION_CONFIRMED
    assert h.host_leftovers(api_system, server_id) == [
        (dest, 'guests'), (dest, 'networks'), (dest, 'block_devices')]
    assert [(a['host'], a['memory_mb']) for a in
            allocations.list_for_instance(server_id)] == [(dest, 2048)]
    check_invariant(api_system)


def test_resize_then_revert_restores_the_source_in_its_power_state(
        api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'SHUTOFF')
    source = h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    _resize(api_system, server_id)
    h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    check_invariant(api_system)
    h.act(api_system, server_id, {'revertResize': None})
    after = h.wait_stable(api_system, server_id, 'SHUTOFF')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert after['flavor']['original_name'] == 'm1.tiny'
    # One guest left, on the source, off (it was stopped), old flavor.
    host, guest = h.guest(api_system, server_id)
    assert host == source
    assert (guest['memory_mb'], guest['power_state']) == (512,
                                                         states.SHUTDOWN)
    assert h.host_leftovers(api_system, server_id, ['guests']) == [
        (source, 'guests')]
    assert _migration(server_id)['status'] == states.MIGRATION_REVERTED
    check_invariant(api_system)


def test_cold_migrate_admin_to_a_named_host(api_system):
    server_id = h.boot(api_system)
    source = h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    target = next(c.host for c in api_system.computes if c.host != source)
    h.act(api_system, server_id, {'migrate': {'host': target}},
          version='2.56')
    after = h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    assert after['OS-EXT-SRV-ATTR:host'] == target
    assert after['flavor']['original_name'] == 'm1.tiny'
    assert _migration(server_id)['migration_type'] == 'migration'
    h.act(api_system, server_id, {'confirmResize': None}, expect=204)
    h.wait_stable(api_system, server_id, 'ACTIVE')
    check_invariant(api_system)
    h.act(api_system, server_id, {'migrate': {'host': 'nowhere'}},
          expect=400, version='2.56')
    # Its own host: refused before anything is claimed (as Nova).
    resp = h.act(api_system, server_id, {'migrate': {'host': target}},
                 expect=400, version='2.56')
    assert 'current host' in resp.json()['badRequest']['message']
    # A host is a field of 2.56 on.
    h.act(api_system, server_id, {'migrate': {'host': target}},
          expect=400)
    assert h.server(api_system, server_id)['status'] == 'ACTIVE'
    check_invariant(api_system)


def test_resize_refusals(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'resize': {'flavorRef': TINY}},
          expect=400)
    h.act(api_system, server_id, {'resize': {'flavorRef': '999'}},
          expect=400)
    h.act(api_system, server_id, {'confirmResize': None}, expect=409)
    h.act(api_system, server_id, {'revertResize': None}, expect=409)
    assert h.server(api_system, server_id)['OS-EXT-STS:task_state'] is None


@pytest.mark.parametrize('action,method,when', [
    ('resize', 'prepare_networks', 'before'),
    ('resize', 'prepare_block_devices', 'before'),
    ('resize', 'migrate_disk_and_power_off', 'before'),
    ('resize', 'migrate_disk_and_power_off', 'after'),
    ('resize', 'finish_migration', 'before'),
    ('resize', 'finish_migration', 'after'),
    ('migrate', 'prepare_block_devices', 'after'),
    ('migrate', 'migrate_disk_and_power_off', 'after'),
    ('migrate', 'finish_migration', 'after')])
def test_resize_failure_at_each_step_rolls_back_to_the_source(
        api_system, action, method, when):
    server_id = h.boot(api_system)
    source = h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    h.inject(api_system, {method: {'fault': 'raise', 'when': when}})
    if action == 'resize':
        _resize(api_system, server_id)
    else:
        h.act(api_system, server_id, {'migrate': None})
    assert _action(server_id, action)['result'] == states.RESULT_ERROR
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert after['flavor']['original_name'] == 'm1.tiny'
    assert 'Injected fault in %s' % method in \
        instances.latest_fault(server_id)['message']
    assert h.guest(api_system, server_id)[0] == source
    assert _migration(server_id)['status'] == states.MIGRATION_ERROR
    assert sorted(h.host_leftovers(api_system, server_id)) == [
        (source, 'block_devices'), (source, 'guests'), (source, 'networks')]
    check_invariant(api_system)


def test_confirm_failure_keeps_verify_resize_then_confirms(api_system):
    server_id = h.boot(api_system)
    _resize(api_system, server_id)
    h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    h.inject(api_system, {'destroy': 'raise'})
    h.act(api_system, server_id, {'confirmResize': None}, expect=204)
    assert _action(server_id, 'confirmResize')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    assert _migration(server_id)['status'] == states.MIGRATION_FINISHED
    check_invariant(api_system)
    h.inject(api_system, {})
    h.act(api_system, server_id, {'confirmResize': None}, expect=204)
    h.wait_stable(api_system, server_id, 'ACTIVE')
    check_invariant(api_system)


@pytest.mark.parametrize('method', ['destroy', 'finish_revert_migration'])
def test_revert_failure_keeps_verify_resize_then_reverts(api_system,
                                                         method):
    server_id = h.boot(api_system)
    source = h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    _resize(api_system, server_id)
    h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    h.inject(api_system, {method: 'raise'})
    h.act(api_system, server_id, {'revertResize': None})
    assert _action(server_id, 'revertResize')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    assert _migration(server_id)['status'] == states.MIGRATION_FINISHED
    check_invariant(api_system)
    if method == 'finish_revert_migration':
        # The destination's guest is gone: confirming is refused.
        h.inject(api_system, {})
        h.act(api_system, server_id, {'confirmResize': None}, expect=204)
        assert _action(server_id, 'confirmResize')['result'] == \
            states.RESULT_ERROR
        assert 'has no guest' in instances.latest_fault(server_id)[
            'message']
        h.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    h.inject(api_system, {})
    h.act(api_system, server_id, {'revertResize': None})
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == source
    assert h.guest(api_system, server_id)[0] == source
    check_invariant(api_system)


def test_resize_is_confirmed_after_the_window(conf, tmp_path):
    conf.set_override('resize_confirm_window_s', 1.0)
    conf.set_override('auto_confirm_interval_s', 0.3, group='conductor')
    system = systems.start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        server_id = h.boot(system)
        _resize(system, server_id)
        h.wait_stable(system, server_id, 'VERIFY_RESIZE')
        wait_for(lambda: _migration(server_id)['status'] ==
                 states.MIGRATION_CONFIRMED, timeout=30,
                 what='the auto-confirm')
        h.wait_stable(system, server_id, 'ACTIVE')
        confirm = _action(server_id, 'confirmResize')
        assert confirm['user_id'] == 'orchestrator'
        assert confirm['result'] == states.RESULT_SUCCESS
        check_invariant(system)
    finally:
        system.stop()
