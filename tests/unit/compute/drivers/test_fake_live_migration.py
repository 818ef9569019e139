"""The fake driver's live migration: where a guest runs across two hosts
at every step, rollbacks, aborts, and that every call converges when
repeated."""

import threading
import time
import uuid

import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_faults
from orchestrator import exception
from orchestrator import states
from tests.unit.compute.conftest import IMAGE
from tests.unit.compute.conftest import make_instance

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def hosts(conf, state_dir):
    """(source, destination) fake drivers sharing one state directory."""
    pair = []
    for name in ('src', 'dst'):
        driver = fake.FakeDriver(name, conf, state_dir=state_dir)
        driver.init_host(name)
        pair.append(driver)
    yield pair
    for driver in pair:
        driver.cleanup_host(driver.host)


def _running_on(instance, *drivers):
    """Hosts among ``drivers`` where the guest of ``instance`` is."""
    return {d.host: d.host_state()['guests'][instance['uuid']]['power_state']
            for d in drivers
            if instance['uuid'] in d.host_state()['guests']}


def _leftovers(driver, instance):
    state = driver.host_state()
    return [key for key in ('guests', 'networks', 'block_devices')
            if instance['uuid'] in state[key]]


def _start(src, dst, instance, migration):
    """Spawned on src, checked and prepared on dst. Returns migrate
    data."""
    src.prepare_networks(instance)
    src.prepare_block_devices(instance)
    src.fetch_image(instance, IMAGE, lambda percent: None)
    src.spawn(instance, IMAGE)
    dest_check = dst.check_can_live_migrate_destination(
        instance, migration, 'src', 'auto')
    data = src.check_can_live_migrate_source(instance, migration,
                                             dest_check)
    dst.pre_live_migration(instance, migration, 'src', data)
    return data


def test_the_guest_moves_and_is_never_running_twice(hosts):
    src, dst = hosts
    instance = make_instance(memory_mb=256)
    migration = str(uuid.uuid4())
    data = _start(src, dst, instance, migration)
    assert data['memory_total'] == 256 * 1024 * 1024
    assert data['source_host'] == 'src' and data['dest_host'] == 'dst'
    assert _running_on(instance, src, dst) == {
        'src': states.RUNNING, 'dst': states.POWER_PAUSED}
    incoming = dst.host_state()['guests'][instance['uuid']]
    assert incoming['live_migration']['incoming'] is True
    assert incoming['network_info'] == dst.host_state()['networks'][
        instance['uuid']]

    reports = []
    done = src.live_migration(instance, migration, 'dst',
                              lambda *args: reports.append(args))
    total = 256 * 1024 * 1024
    assert done == {'memory_total': total, 'memory_processed': total,
                    'memory_remaining': 0}
    assert [r[1] for r in reports] == sorted(r[1] for r in reports)
    assert reports[-1] == (total, total, 0) and len(reports) == 4
    # Copied: the source's guest stopped, the destination's not started.
    assert _running_on(instance, src, dst) == {
        'src': states.POWER_PAUSED, 'dst': states.POWER_PAUSED}
    # A repeated copy returns at once.
    assert src.live_migration(instance, migration, 'dst',
                              lambda *args: None) == done

    assert dst.post_live_migration_at_destination(
        instance, migration, states.RUNNING) == states.RUNNING
    assert dst.post_live_migration_at_destination(
        instance, migration, states.RUNNING) == states.RUNNING
    assert src.post_live_migration(instance, migration) is True
    assert src.post_live_migration(instance, migration) is False
    assert _running_on(instance, src, dst) == {'dst': states.RUNNING}
    assert 'live_migration' not in dst.host_state()['guests'][
        instance['uuid']]
    assert _leftovers(src, instance) == []
    assert src.host_state()['image_cache'][IMAGE['id']]['users'] == []


def test_rollback_leaves_the_guest_running_on_the_source_only(hosts):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    _start(src, dst, instance, migration)
    src.live_migration(instance, migration, 'dst', lambda *args: None)
    assert dst.rollback_live_migration_at_destination(instance,
                                                      migration) is True
    assert dst.rollback_live_migration_at_destination(instance,
                                                      migration) is False
    assert src.rollback_live_migration(instance, migration) == \
        states.RUNNING
    assert src.rollback_live_migration(instance, migration) == \
        states.RUNNING
    assert _running_on(instance, src, dst) == {'src': states.RUNNING}
    assert 'live_migration' not in src.host_state()['guests'][
        instance['uuid']]
    assert _leftovers(dst, instance) == []


def test_a_paused_guest_is_paused_again_after_a_rollback(hosts):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    src.spawn(instance, IMAGE)
    src.set_power_state(instance, 'pause')
    src.live_migration(instance, migration, 'dst', lambda *args: None)
    assert src.rollback_live_migration(instance, migration) == \
        states.POWER_PAUSED


def test_rollbacks_of_a_migration_that_never_started_change_nothing(
        hosts):
    src, dst = hosts
    instance = make_instance()
    src.spawn(instance, IMAGE)
    dst.spawn(make_instance(), IMAGE)
    before = (src.host_state()['guests'], dst.host_state()['guests'])
    migration = str(uuid.uuid4())
    assert dst.rollback_live_migration_at_destination(instance,
                                                      migration) is False
    assert src.rollback_live_migration(instance, migration) == \
        states.RUNNING
    assert src.rollback_live_migration(make_instance(), migration) is None
    assert (src.host_state()['guests'], dst.host_state()['guests']) == \
        before


def test_an_abort_stops_a_running_copy(conf, hosts, state_dir):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    _start(src, dst, instance, migration)
    fake_faults.write_runtime_faults(state_dir, 'src',
                                     {'live_migration': {'delay_s': 4}})
    reports = []
    raised = []

    def copy():
        try:
            src.live_migration(instance, migration, 'dst',
                               lambda *args: reports.append(args))
        except exception.MigrationAborted as e:
            raised.append(e)

    thread = threading.Thread(target=copy)
    started = time.monotonic()
    thread.start()
    while not reports and time.monotonic() - started < 10:
        time.sleep(0.01)
    assert src.live_migration_abort(instance, migration) is True
    thread.join(10)
    assert raised and time.monotonic() - started < 4
    assert reports[-1][2] > 0  # stopped before the end of the copy
    # Still running on the source until the rollback.
    assert _running_on(instance, src)['src'] == states.RUNNING
    src.rollback_live_migration(instance, migration)
    assert src.host_state()['aborted_migrations'] == {}


def test_an_abort_of_a_copy_not_running_here_is_not_kept(hosts):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    src.spawn(instance, IMAGE)
    assert src.live_migration_abort(instance, migration) is False
    src.live_migration(instance, migration, 'dst', lambda *args: None)
    # Copied already: too late to abort here.
    assert src.live_migration_abort(instance, migration) is False
    assert src.host_state()['aborted_migrations'] == {}


def test_an_abort_seen_after_the_last_step_still_stops_the_guest_move(
        hosts):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    src.spawn(instance, IMAGE)

    def abort_at_the_end(total, processed, remaining):
        if remaining == 0:
            src.live_migration_abort(instance, migration)

    with pytest.raises(exception.MigrationAborted):
        src.live_migration(instance, migration, 'dst', abort_at_the_end)
    assert _running_on(instance, src)['src'] == states.RUNNING


def test_pre_checks_refuse(hosts):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    src.spawn(instance, IMAGE)
    with pytest.raises(exception.MigrationPreCheckError):
        src.check_can_live_migrate_destination(instance, migration, 'src',
                                               False)
    with pytest.raises(exception.GuestNotFound):
        dst.check_can_live_migrate_source(instance, migration, {})
    src.set_power_state(instance, 'power_off')
    with pytest.raises(exception.MigrationPreCheckError):
        src.check_can_live_migrate_source(instance, migration, {})
    # A destination that has a guest of the instance already.
    dst.spawn(instance, IMAGE)
    with pytest.raises(exception.MigrationPreCheckError):
        dst.check_can_live_migrate_destination(instance, migration, 'src',
                                               False)
    with pytest.raises(exception.MigrationPreCheckError):
        dst.pre_live_migration(instance, migration, 'src', {})
    assert 'live_migration' not in dst.host_state()['guests'][
        instance['uuid']]


def test_post_steps_refuse_a_guest_that_is_not_the_migrated_one(hosts):
    src, dst = hosts
    instance = make_instance()
    src.spawn(instance, IMAGE)
    with pytest.raises(exception.Invalid):
        src.post_live_migration(instance, str(uuid.uuid4()))
    assert _running_on(instance, src) == {'src': states.RUNNING}
    with pytest.raises(exception.GuestNotFound):
        dst.post_live_migration_at_destination(
            instance, str(uuid.uuid4()), states.RUNNING)
    with pytest.raises(exception.Invalid):
        dst.post_live_migration_at_destination(
            instance, str(uuid.uuid4()), states.SHUTDOWN)
    # A rollback at the destination leaves a guest of its own alone.
    assert src.rollback_live_migration_at_destination(
        instance, str(uuid.uuid4())) is False
    assert _running_on(instance, src) == {'src': states.RUNNING}


def test_a_second_migration_of_a_migrating_guest_is_refused(hosts):
    src, dst = hosts
    instance = make_instance()
    src.spawn(instance, IMAGE)
    src.live_migration(instance, 'm-1', 'dst', lambda *args: None)
    with pytest.raises(exception.Invalid):
        src.live_migration(instance, 'm-2', 'dst', lambda *args: None)


def test_a_fault_after_pre_live_migration_leaves_its_work_done(
        hosts, state_dir):
    src, dst = hosts
    instance = make_instance()
    migration = str(uuid.uuid4())
    src.spawn(instance, IMAGE)
    fake_faults.write_runtime_faults(state_dir, 'dst', {
        'pre_live_migration': {'fault': 'raise', 'when': 'after'}})
    with pytest.raises(exception.InjectedFault):
        dst.pre_live_migration(instance, migration, 'src', {})
    assert _leftovers(dst, instance) == ['guests', 'networks',
                                         'block_devices']
    assert dst.host_state()['calls']['pre_live_migration'] == 1
    fake_faults.write_runtime_faults(state_dir, 'dst', {})
    assert dst.rollback_live_migration_at_destination(instance,
                                                      migration) is True
    assert _leftovers(dst, instance) == []


def test_progress_steps_follow_the_option(conf, hosts):
    src, _dst = hosts
    conf.set_override('live_migration_steps', 2, group='fake_driver')
    instance = make_instance(memory_mb=64)
    src.spawn(instance, IMAGE)
    reports = []
    src.live_migration(instance, 'm', 'dst',
                       lambda *args: reports.append(args))
    total = 64 * 1024 * 1024
    assert reports == [(total, total // 2, total - total // 2),
                       (total, total, 0)]
