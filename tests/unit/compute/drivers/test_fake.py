"""What only the fake driver promises: its host file, counters, faults."""

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_faults
from orchestrator.compute.drivers import fake_host_file
from orchestrator import exception
from orchestrator import states
from tests.unit.compute.conftest import IMAGE
from tests.unit.compute.conftest import make_instance

HANG_TIMEOUT_S = 10
# A regression in waking hung calls fails here instead of hanging.
pytestmark = pytest.mark.timeout(30)


def _set_guest_power_state(driver, instance_uuid, power_state):
    with driver.host_file.change() as state:
        state['guests'][instance_uuid]['power_state'] = power_state


# -- the host file ------------------------------------------------------------
def test_a_new_driver_on_the_same_directory_knows_the_guests(
        conf, fake_driver, host_name, state_dir):
    instance = make_instance()
    network_info = fake_driver.prepare_networks(instance)
    fake_driver.prepare_block_devices(instance)
    fake_driver.spawn(instance, IMAGE)

    restarted = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    restarted.init_host(host_name)
    assert restarted.list_instances() == {instance['uuid']: states.RUNNING}
    assert restarted.prepare_networks(instance) == network_info
    assert restarted.destroy(instance) is True
    assert fake_driver.get_info(instance['uuid']) is None


def test_addresses_do_not_repeat_after_a_restart(conf, fake_driver,
                                                 host_name, state_dir):
    first = fake_driver.prepare_networks(make_instance())
    restarted = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    second = restarted.prepare_networks(make_instance())
    assert first['ip_address'] != second['ip_address']


def test_two_hosts_in_one_directory_have_their_own_guests(conf, state_dir):
    one = fake.FakeDriver('host-one', conf, state_dir=state_dir)
    two = fake.FakeDriver('host-two', conf, state_dir=state_dir)
    instance = make_instance()
    one.spawn(instance, IMAGE)
    assert two.list_instances() == {}
    assert two.destroy(instance) is False
    assert one.list_instances() == {instance['uuid']: states.RUNNING}
    assert sorted(f for f in os.listdir(state_dir)
                  if f.endswith('.json')) == ['host-one.json',
                                              'host-two.json']


def test_default_state_dir_is_under_state_path(conf, tmp_path):
    conf.set_override('state_path', str(tmp_path))
    driver = fake.FakeDriver('h', conf)
    driver.init_host('h')
    assert os.path.exists(tmp_path / 'fake-hosts' / 'h.json')


def test_the_host_file_is_valid_json_and_no_temporary_file_stays(
        fake_driver, state_dir):
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    with open(fake_driver.host_file.path) as f:
        state = json.load(f)
    assert state['format_version'] == fake_host_file.FORMAT_VERSION
    assert state['guests'][instance['uuid']]['power_state'] == states.RUNNING
    assert not [f for f in os.listdir(state_dir) if '.tmp' in f]


def test_a_failing_change_writes_nothing(fake_driver):
    before = fake_driver.host_state()
    with pytest.raises(RuntimeError):
        with fake_driver.host_file.change() as state:
            state['guests']['x'] = {'power_state': states.RUNNING}
            raise RuntimeError('boom')
    assert fake_driver.host_state() == before


def test_a_corrupt_host_file_is_reported(fake_driver):
    with open(fake_driver.host_file.path, 'w') as f:
        f.write('{not json')
    with pytest.raises(ValueError, match='not valid JSON'):
        fake_driver.list_instances()


def test_init_host_refuses_another_host(fake_driver):
    with pytest.raises(exception.Invalid):
        fake_driver.init_host('some-other-host')


def test_concurrent_changes_from_two_driver_objects_are_not_lost(
        conf, fake_driver, host_name, state_dir):
    other = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    instances = [make_instance() for _ in range(20)]
    results = {}

    def plug(driver, instance):
        results[instance['uuid']] = driver.prepare_networks(instance)

    threads = [threading.Thread(target=plug, args=(d, i))
               for d, i in zip([fake_driver, other] * 10, instances,
                               strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    addresses = {info['ip_address'] for info in results.values()}
    assert len(addresses) == 20
    state = fake_driver.host_state()
    assert len(state['networks']) == 20
    assert state['calls']['prepare_networks'] == 20


def test_spawn_of_an_existing_guest_returns_its_power_state(fake_driver):
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    _set_guest_power_state(fake_driver, instance['uuid'], states.SHUTDOWN)
    assert fake_driver.spawn(instance, IMAGE) == states.SHUTDOWN


def test_network_info_is_kept_with_the_guest(fake_driver):
    instance = make_instance()
    info = fake_driver.prepare_networks(instance)
    fake_driver.spawn(instance, IMAGE)
    guest = fake_driver.host_state()['guests'][instance['uuid']]
    assert guest['network_info'] == info


def test_destroy_removes_disks_ports_and_image_references(fake_driver):
    instance = make_instance()
    fake_driver.prepare_networks(instance)
    fake_driver.prepare_block_devices(instance)
    fake_driver.fetch_image(instance, IMAGE, lambda p: None)
    fake_driver.spawn(instance, IMAGE)
    fake_driver.destroy(instance)
    state = fake_driver.host_state()
    assert state['networks'] == {}
    assert state['block_devices'] == {}
    assert state['image_cache'][IMAGE['id']]['users'] == []


def test_fake_addresses_are_unique_on_a_host():
    addresses = {fake.fake_ipv4_address('h', i) for i in range(65024)}
    assert len(addresses) == 65024
    assert all(not a.endswith(('.0', '.255')) for a in addresses)


def test_bad_arguments_are_invalid(fake_driver):
    with pytest.raises(exception.Invalid):
        fake_driver.spawn({'display_name': 'no uuid'}, IMAGE)
    with pytest.raises(exception.Invalid):
        fake_driver.spawn(make_instance(), {'name': 'no id'})


# -- call counters -----------------------------------------------------------
def test_every_call_is_counted_even_when_it_fails(conf, fake_driver):
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    fake_driver.spawn(instance, IMAGE)
    conf.set_override('faults', {'spawn': 'raise'}, group='fake_driver')
    with pytest.raises(exception.InjectedFault):
        fake_driver.spawn(instance, IMAGE)
    calls = fake_driver.host_state()['calls']
    assert calls['spawn'] == 3
    assert 'destroy' not in calls


# -- configured faults and delays ---------------------------------------------
def test_configured_raise_fails_before_acting(conf, fake_driver):
    conf.set_override('faults', {'spawn': 'raise'}, group='fake_driver')
    instance = make_instance()
    with pytest.raises(exception.InjectedFault) as caught:
        fake_driver.spawn(instance, IMAGE)
    assert caught.value.kwargs == {'method': 'spawn',
                                   'host': fake_driver.host}
    assert fake_driver.list_instances() == {}


def test_configured_delay_slows_the_method(conf, fake_driver):
    conf.set_override('delays_s', {'spawn': '0.3'}, group='fake_driver')
    started = time.monotonic()
    fake_driver.spawn(make_instance(), IMAGE)
    assert time.monotonic() - started >= 0.3


def test_fetch_image_spreads_its_delay_over_the_steps(conf, fake_driver):
    conf.set_override('delays_s', {'fetch_image': '0.4'},
                      group='fake_driver')
    conf.set_override('image_fetch_steps', 4, group='fake_driver')
    stamps = []
    started = time.monotonic()
    fake_driver.fetch_image(make_instance(), IMAGE,
                            lambda p: stamps.append((p, time.monotonic())))
    assert [p for p, _ in stamps] == [25, 50, 75, 100]
    assert stamps[0][1] - started >= 0.1
    assert stamps[-1][1] - started >= 0.4


def test_unknown_configured_fault_is_invalid(conf, fake_driver):
    conf.set_override('faults', {'spawn': 'explode'}, group='fake_driver')
    with pytest.raises(exception.Invalid, match='explode'):
        fake_driver.spawn(make_instance(), IMAGE)


def _call_in_thread(func, *args):
    outcome = {}

    def run():
        try:
            outcome['result'] = func(*args)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome['error'] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_hang_blocks_until_the_driver_stops(conf, fake_driver, host_name):
    conf.set_override('faults', {'spawn': 'hang'}, group='fake_driver')
    instance = make_instance()
    thread, outcome = _call_in_thread(fake_driver.spawn, instance, IMAGE)
    thread.join(0.3)
    assert thread.is_alive()
    fake_driver.cleanup_host(host_name)
    thread.join(HANG_TIMEOUT_S)
    assert not thread.is_alive()
    assert isinstance(outcome['error'], exception.InjectedFault)
    assert 'hung' in str(outcome['error'])
    assert fake_driver.list_instances() == {}


def test_stop_interrupts_a_delay(conf, fake_driver, host_name):
    conf.set_override('delays_s', {'spawn': '60'}, group='fake_driver')
    thread, outcome = _call_in_thread(fake_driver.spawn, make_instance(),
                                      IMAGE)
    thread.join(0.2)
    started = time.monotonic()
    fake_driver.cleanup_host(host_name)
    thread.join(HANG_TIMEOUT_S)
    assert time.monotonic() - started < HANG_TIMEOUT_S
    assert isinstance(outcome['error'], exception.InjectedFault)


def test_init_host_after_a_stop_serves_again(conf, fake_driver, host_name):
    conf.set_override('delays_s', {'spawn': '0.01'}, group='fake_driver')
    fake_driver.cleanup_host(host_name)
    fake_driver.init_host(host_name)
    assert fake_driver.spawn(make_instance(), IMAGE) == states.RUNNING


# -- the run-time faults file -------------------------------------------------
def test_runtime_faults_apply_to_a_running_driver(fake_driver, host_name,
                                                  state_dir):
    instance = make_instance()
    fake_faults.write_runtime_faults(state_dir, host_name,
                                     {'spawn': 'raise'})
    with pytest.raises(exception.InjectedFault):
        fake_driver.spawn(instance, IMAGE)
    fake_faults.write_runtime_faults(state_dir, host_name, None)
    assert fake_driver.spawn(instance, IMAGE) == states.RUNNING
    assert not os.path.exists(
        fake_faults.faults_file_path(state_dir, host_name))


def test_raise_after_acting_leaves_the_change_and_a_rerun_converges(
        fake_driver, host_name, state_dir):
    instance = make_instance()
    fake_faults.write_runtime_faults(
        state_dir, host_name, {'spawn': {'fault': 'raise', 'when': 'after'}})
    with pytest.raises(exception.InjectedFault):
        fake_driver.spawn(instance, IMAGE)
    assert fake_driver.list_instances() == {instance['uuid']: states.RUNNING}
    fake_faults.write_runtime_faults(state_dir, host_name, {})
    assert fake_driver.spawn(instance, IMAGE) == states.RUNNING
    assert fake_driver.list_instances() == {instance['uuid']: states.RUNNING}


def test_a_runtime_entry_replaces_the_configured_fault(conf, fake_driver,
                                                       host_name, state_dir):
    conf.set_override('faults', {'spawn': 'raise'}, group='fake_driver')
    fake_faults.write_runtime_faults(state_dir, host_name,
                                     {'spawn': {'delay_s': 0.01}})
    assert fake_driver.spawn(make_instance(), IMAGE) == states.RUNNING


def test_runtime_delay(fake_driver, host_name, state_dir):
    fake_faults.write_runtime_faults(state_dir, host_name,
                                     {'destroy': {'delay_s': 0.3}})
    started = time.monotonic()
    fake_driver.destroy(make_instance())
    assert time.monotonic() - started >= 0.3


def test_runtime_faults_of_one_host_spare_the_other(conf, state_dir):
    one = fake.FakeDriver('host-one', conf, state_dir=state_dir)
    two = fake.FakeDriver('host-two', conf, state_dir=state_dir)
    fake_faults.write_runtime_faults(state_dir, 'host-one',
                                     {'spawn': 'raise'})
    with pytest.raises(exception.InjectedFault):
        one.spawn(make_instance(), IMAGE)
    assert two.spawn(make_instance(), IMAGE) == states.RUNNING


@pytest.mark.parametrize('entry', [
    'explode', {'fault': 'raise', 'when': 'during'},
    {'fault': 'raise', 'colour': 'red'}, {'delay_s': -1},
    {'delay_s': 'soon'}, ['raise']])
def test_malformed_runtime_entries_are_refused(state_dir, entry):
    with pytest.raises(exception.Invalid):
        fake_faults.write_runtime_faults(state_dir, 'h', {'spawn': entry})


def test_a_malformed_faults_file_fails_the_call_loudly(
        fake_driver, host_name, state_dir):
    with open(fake_faults.faults_file_path(state_dir, host_name), 'w') as f:
        f.write('{"spawn": ')
    with pytest.raises(exception.Invalid, match='not valid JSON'):
        fake_driver.spawn(make_instance(), IMAGE)


CRASHING_SCRIPT = """
import sys
from orchestrator import conf
from orchestrator.compute.drivers import fake
conf.register_all()
conf.CONF([], default_config_files=[], default_config_dirs=[])
driver = fake.FakeDriver(sys.argv[1], conf.CONF, state_dir=sys.argv[2])
driver.init_host(sys.argv[1])
driver.spawn({'uuid': sys.argv[3]}, {'id': 'image-1'})
print('survived')
"""


@pytest.mark.parametrize('when, guest_survives', [('before', False),
                                                  ('after', True)])
def test_crash_ends_the_process_at_the_named_method(
        fake_driver, host_name, state_dir, when, guest_survives):
    instance = make_instance()
    fake_faults.write_runtime_faults(
        state_dir, host_name, {'spawn': {'fault': 'crash', 'when': when}})
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    done = subprocess.run(
        [sys.executable, '-c', CRASHING_SCRIPT, host_name, state_dir,
         instance['uuid']],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == fake_faults.CRASH_EXIT_CODE, done.stderr
    assert 'survived' not in done.stdout
    assert 'injected crash in spawn' in done.stderr
    guests = fake_driver.list_instances()
    assert (instance['uuid'] in guests) is guest_survives
    assert fake_driver.host_state()['calls']['spawn'] == 1


# -- changes from outside the orchestrator ----------------------------------
def _recording_callback(driver):
    events = []
    driver.register_lifecycle_callback(
        lambda uuid, power: events.append((uuid, power)))
    return events


def test_a_guest_power_change_is_written_and_signalled(fake_driver):
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    events = _recording_callback(fake_driver)
    fake_driver.emulate_guest_power_change(instance['uuid'], states.SHUTDOWN)
    assert fake_driver.get_info(instance['uuid']) == states.SHUTDOWN
    assert events == [(instance['uuid'], states.SHUTDOWN)]
    # Not a call of the orchestrator: not counted.
    assert 'emulate_guest_power_change' not in fake_driver.host_state()[
        'calls']


def test_a_power_change_of_no_guest_or_to_no_state_is_refused(fake_driver):
    events = _recording_callback(fake_driver)
    with pytest.raises(exception.GuestNotFound):
        fake_driver.emulate_guest_power_change('nope', states.RUNNING)
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    with pytest.raises(exception.Invalid):
        fake_driver.emulate_guest_power_change(instance['uuid'], 42)
    assert events == []
    assert fake_driver.get_info(instance['uuid']) == states.RUNNING


def test_a_vanished_guest_leaves_its_disks_and_is_signalled_once(
        fake_driver):
    instance = make_instance()
    fake_driver.prepare_block_devices(instance)
    fake_driver.spawn(instance, IMAGE)
    events = _recording_callback(fake_driver)
    assert fake_driver.emulate_guest_vanished(instance['uuid']) is True
    assert fake_driver.emulate_guest_vanished(instance['uuid']) is False
    assert fake_driver.get_info(instance['uuid']) is None
    assert instance['uuid'] in fake_driver.host_state()['block_devices']
    assert events == [(instance['uuid'], None)]
    # A later destroy removes the leftovers.
    assert fake_driver.destroy(instance) is False
    assert fake_driver.host_state()['block_devices'] == {}


def test_a_leftover_guest_appears_and_is_signalled(fake_driver):
    instance = make_instance()
    events = _recording_callback(fake_driver)
    fake_driver.emulate_leftover_guest(instance)
    fake_driver.emulate_leftover_guest(instance, states.POWER_PAUSED)
    assert fake_driver.list_instances() == {
        instance['uuid']: states.POWER_PAUSED}
    guest = fake_driver.host_state()['guests'][instance['uuid']]
    assert guest['image_id'] == instance['image_ref']
    assert events == [(instance['uuid'], states.RUNNING),
                      (instance['uuid'], states.POWER_PAUSED)]
    assert fake_driver.destroy(instance) is True


def test_a_failing_callback_does_not_undo_the_change(fake_driver):
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)

    def broken(uuid, power):
        raise RuntimeError('listener broke')

    fake_driver.register_lifecycle_callback(broken)
    fake_driver.emulate_guest_power_change(instance['uuid'], states.CRASHED)
    assert fake_driver.get_info(instance['uuid']) == states.CRASHED
    fake_driver.register_lifecycle_callback(None)
    fake_driver.emulate_guest_power_change(instance['uuid'], states.RUNNING)
    assert fake_driver.get_info(instance['uuid']) == states.RUNNING


def test_the_console_log_follows_the_guest_and_is_bounded(fake_driver):
    from orchestrator.compute.drivers import fake_console
    instance = make_instance()
    fake_driver.spawn(instance, IMAGE)
    log = fake_driver.get_console_output(instance)
    assert 'Booting from image %s' % IMAGE['id'] in log
    assert log.endswith('login: ')
    fake_driver.set_power_state(instance, 'power_off')
    assert fake_driver.get_console_output(instance, 1).endswith(
        'reboot: Power down')
    # A re-run of the same power off prints nothing more.
    before = fake_driver.get_console_output(instance)
    fake_driver.set_power_state(instance, 'power_off')
    assert fake_driver.get_console_output(instance) == before
    fake_driver.set_power_state(instance, 'power_on')
    fake_driver.rescue(instance, IMAGE, 'secret-pass')
    log = fake_driver.get_console_output(instance)
    assert 'Booting from rescue image' in log
    assert 'secret-pass' not in log
    fake_driver.unrescue(instance)
    for _ in range(fake_console.MAX_LINES):
        fake_driver.set_power_state(instance, 'reboot')
    lines = fake_driver.get_console_output(instance).splitlines()
    assert len(lines) == fake_console.MAX_LINES
    assert lines[-1].endswith('login: ')
    # An older driver's guest record (no console yet) reads as empty.
    with fake_driver.host_file.change() as state:
        state['guests'][instance['uuid']].pop('console')
    assert fake_driver.get_console_output(instance) == ''
