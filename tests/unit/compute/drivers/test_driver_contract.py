"""The ComputeDriver contract, run against every in-tree driver.

A new driver adds itself to ``DRIVER_FACTORIES``; each test states one
promise of :mod:`orchestrator.compute.drivers.base`, mostly that a
repeated call converges instead of failing.
"""

import pytest

from orchestrator.compute.drivers import base
from orchestrator.compute.drivers import fake
from orchestrator import exception
from orchestrator import states
from tests.unit.compute.conftest import IMAGE
from tests.unit.compute.conftest import make_instance


def _fake(host, conf, tmp_path):
    return fake.FakeDriver(host, conf, state_dir=str(tmp_path / 'hosts'))


DRIVER_FACTORIES = {'fake': _fake}


@pytest.fixture(params=sorted(DRIVER_FACTORIES))
def driver(request, conf, tmp_path, host_name):
    driver = DRIVER_FACTORIES[request.param](host_name, conf, tmp_path)
    assert isinstance(driver, base.ComputeDriver)
    driver.init_host(host_name)
    yield driver
    driver.cleanup_host(host_name)


def test_init_host_again_is_harmless(driver, host_name):
    instance = make_instance()
    driver.spawn(instance, IMAGE)
    driver.init_host(host_name)
    assert driver.list_instances() == {instance['uuid']: states.RUNNING}


def test_available_resources_have_the_reported_keys(driver):
    resources = driver.get_available_resources()
    assert set(resources) == {'vcpus', 'memory_mb', 'local_gb',
                              'hypervisor_type'}
    assert all(resources[k] > 0 for k in ('vcpus', 'memory_mb',
                                          'local_gb'))


def test_prepare_networks_twice_returns_the_same_ports(driver):
    instance = make_instance()
    first = driver.prepare_networks(instance)
    assert set(first) >= {'network_name', 'ip_address', 'ip_version',
                          'mac_address'}
    assert driver.prepare_networks(instance) == first


def test_instances_get_different_addresses(driver):
    one = driver.prepare_networks(make_instance())
    two = driver.prepare_networks(make_instance())
    assert one['ip_address'] != two['ip_address']
    assert one['mac_address'] != two['mac_address']


def test_cleanup_networks_of_nothing_is_a_no_op(driver):
    instance = make_instance()
    assert driver.cleanup_networks(instance) is None
    driver.prepare_networks(instance)
    driver.cleanup_networks(instance)
    driver.cleanup_networks(instance)


def test_prepare_block_devices_twice_returns_the_same_disks(driver):
    instance = make_instance(root_gb=3, ephemeral_gb=2)
    mapping = driver.prepare_block_devices(instance)
    assert sorted(d['kind'] for d in mapping.values()) == ['ephemeral',
                                                           'root']
    assert {d['kind']: d['size_gb'] for d in mapping.values()} == {
        'root': 3, 'ephemeral': 2}
    assert driver.prepare_block_devices(instance) == mapping


def test_no_ephemeral_disk_without_ephemeral_gb(driver):
    mapping = driver.prepare_block_devices(make_instance(ephemeral_gb=0))
    assert [d['kind'] for d in mapping.values()] == ['root']


def test_cleanup_block_devices_of_nothing_is_a_no_op(driver):
    instance = make_instance()
    assert driver.cleanup_block_devices(instance) is None
    driver.prepare_block_devices(instance)
    driver.cleanup_block_devices(instance)
    driver.cleanup_block_devices(instance)


def test_fetch_image_reports_progress_up_to_100(driver):
    progress = []
    info = driver.fetch_image(make_instance(), IMAGE, progress.append)
    assert info['image_id'] == IMAGE['id']
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert all(0 <= p <= 100 for p in progress)


def test_fetch_of_a_cached_image_returns_at_once_with_100(driver):
    first = driver.fetch_image(make_instance(), IMAGE, lambda p: None)
    progress = []
    again = driver.fetch_image(make_instance(), IMAGE, progress.append)
    assert again == first
    assert progress == [100]


def test_spawn_twice_makes_one_running_guest(driver):
    instance = make_instance()
    assert driver.spawn(instance, IMAGE) == states.RUNNING
    assert driver.spawn(instance, IMAGE) == states.RUNNING
    assert driver.list_instances() == {instance['uuid']: states.RUNNING}
    assert driver.get_info(instance['uuid']) == states.RUNNING


def test_destroy_twice_reports_the_guest_once(driver):
    instance = make_instance()
    driver.spawn(instance, IMAGE)
    assert driver.destroy(instance) is True
    assert driver.destroy(instance) is False
    assert driver.get_info(instance['uuid']) is None
    assert driver.list_instances() == {}


def test_destroy_of_a_never_spawned_guest_is_false(driver):
    assert driver.destroy(make_instance()) is False


def test_destroy_leaves_other_guests_alone(driver):
    keep, drop = make_instance(), make_instance()
    driver.spawn(keep, IMAGE)
    driver.spawn(drop, IMAGE)
    driver.destroy(drop)
    assert driver.list_instances() == {keep['uuid']: states.RUNNING}


def test_get_info_of_an_unknown_guest_is_none(driver):
    assert driver.get_info(make_instance()['uuid']) is None


def test_full_build_then_destroy_converges_when_repeated(driver):
    instance = make_instance(ephemeral_gb=1)
    for _ in range(2):
        driver.prepare_networks(instance)
        driver.prepare_block_devices(instance)
        driver.fetch_image(instance, IMAGE, lambda p: None)
        assert driver.spawn(instance, IMAGE) == states.RUNNING
    assert driver.list_instances() == {instance['uuid']: states.RUNNING}
    assert driver.destroy(instance) is True
    driver.cleanup_networks(instance)
    driver.cleanup_block_devices(instance)
    assert driver.list_instances() == {}


def test_console_output_of_an_unknown_guest_is_guest_not_found(driver):
    with pytest.raises(exception.GuestNotFound):
        driver.get_console_output(make_instance())


def test_console_output_is_text_and_length_keeps_the_last_lines(driver):
    instance = make_instance()
    driver.spawn(instance, IMAGE)
    everything = driver.get_console_output(instance)
    assert isinstance(everything, str)
    assert driver.get_console_output(instance) == everything
    lines = everything.split('\n')
    assert len(lines) > 3
    assert driver.get_console_output(instance, 3).split('\n') == lines[-3:]
    assert driver.get_console_output(instance, 0) == ''
    assert driver.get_console_output(instance, len(lines) + 2) == everything
