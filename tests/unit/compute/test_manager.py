"""The compute agent over a real transport (kombu's in-memory broker).

A ComputeService serves a unique host; the test calls it through the real
client, :class:`orchestrator.compute.rpcapi.ComputeAPI`, and listens to
what it casts to the conductor with a real RPC server on topic
``conductor`` whose endpoint records the casts.
"""

import queue
import threading

import oslo_messaging as messaging
import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_faults
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.compute import service as compute_service
from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import rpc
from orchestrator import states
from tests.unit.compute.conftest import IMAGE
from tests.unit.compute.conftest import make_instance

WAIT_S = 10
# A regression in waking hung calls fails here instead of hanging.
pytestmark = pytest.mark.timeout(30)


class RecordingConductor:
    """Endpoint of the conductor's host-facing casts; keeps what came for
    one host (the in-memory broker is shared by every test)."""

    target = messaging.Target(version='1.0')

    def __init__(self, host):
        self.host = host
        self.heartbeats = queue.Queue()
        self.progress = queue.Queue()

    def report_heartbeat(self, ctxt, host, binary, resources):
        if host == self.host:
            self.heartbeats.put({'binary': binary, 'resources': resources})

    def report_progress(self, ctxt, instance_uuid, task_id, progress):
        self.progress.put((instance_uuid, task_id, progress))


@pytest.fixture
def conductor(memory_rpc, host_name):
    endpoint = RecordingConductor(host_name)
    server = rpc.get_server(
        messaging.Target(topic='conductor', server='recorder-' + host_name),
        [endpoint])
    server.start()
    yield endpoint
    server.stop()
    server.wait()


@pytest.fixture
def service(conf, memory_rpc, conductor, host_name, state_dir):
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def compute(memory_rpc):
    return compute_rpcapi.ComputeAPI(timeout=WAIT_S)


@pytest.fixture
def ctxt():
    return orch_context.get_admin_context()


def test_spawn_twice_makes_one_guest(service, compute, ctxt, host_name):
    instance = make_instance()
    assert compute.spawn(ctxt, host_name, instance, IMAGE) == states.RUNNING
    assert compute.spawn(ctxt, host_name, instance, IMAGE) == states.RUNNING
    assert compute.list_instances(ctxt, host_name) == {
        instance['uuid']: states.RUNNING}
    assert service.driver.host_state()['calls']['spawn'] == 2


def test_destroy_twice_is_false_the_second_time(service, compute, ctxt,
                                                 host_name):
    instance = make_instance()
    compute.spawn(ctxt, host_name, instance, IMAGE)
    assert compute.destroy(ctxt, host_name, instance) is True
    assert compute.destroy(ctxt, host_name, instance) is False
    assert compute.get_info(ctxt, host_name, instance['uuid']) is None


def test_preparations_converge_when_repeated(service, compute, ctxt,
                                             host_name):
    instance = make_instance(ephemeral_gb=1)
    networks = compute.prepare_networks(ctxt, host_name, instance)
    disks = compute.prepare_block_devices(ctxt, host_name, instance)
    assert compute.prepare_networks(ctxt, host_name, instance) == networks
    assert compute.prepare_block_devices(ctxt, host_name, instance) == disks
    for _ in range(2):
        assert compute.cleanup_networks(ctxt, host_name, instance) is None
        assert compute.cleanup_block_devices(ctxt, host_name,
                                             instance) is None


def test_fetch_image_casts_progress_to_the_conductor(
        conf, service, conductor, compute, ctxt, host_name):
    conf.set_override('image_fetch_steps', 2, group='fake_driver')
    instance = make_instance()
    info = compute.fetch_image(ctxt, host_name, instance, IMAGE)
    assert info['image_id'] == IMAGE['id']
    reports = [conductor.progress.get(timeout=WAIT_S) for _ in range(2)]
    assert reports == [(instance['uuid'], instance['task_id'], 50),
                       (instance['uuid'], instance['task_id'], 100)]


def test_injected_fault_arrives_as_itself(service, compute, ctxt,
                                          host_name, state_dir):
    fake_faults.write_runtime_faults(state_dir, host_name,
                                     {'spawn': 'raise'})
    with pytest.raises(exception.InjectedFault) as caught:
        compute.spawn(ctxt, host_name, make_instance(), IMAGE)
    assert caught.value.kwargs == {'method': 'spawn', 'host': host_name}


def test_invalid_arguments_arrive_as_invalid(service, compute, ctxt,
                                             host_name):
    with pytest.raises(exception.Invalid):
        compute.spawn(ctxt, host_name, {'display_name': 'no uuid'}, IMAGE)


def test_an_unexpected_driver_error_arrives_as_compute_host_error(
        service, compute, ctxt, host_name):
    # Under the host file's lock, or the heartbeat's next write may
    # replace the broken file before the call reads it.
    with service.driver.host_file.change():
        with open(service.driver.host_file.path, 'w') as f:
            f.write('{broken')
    with pytest.raises(exception.ComputeHostError) as caught:
        compute.list_instances(ctxt, host_name)
    assert caught.value.kwargs['host'] == host_name
    assert caught.value.kwargs['method'] == 'list_instances'
    assert 'ValueError' in caught.value.kwargs['reason']


def test_calls_to_another_host_do_not_reach_this_one(
        service, compute, ctxt, host_name):
    compute.spawn(ctxt, host_name, make_instance(), IMAGE)
    short = compute_rpcapi.ComputeAPI(timeout=1)
    with pytest.raises(messaging.MessagingTimeout):
        short.list_instances(ctxt, host_name + '-elsewhere')


def test_first_heartbeat_is_sent_at_start(conf, service, conductor):
    beat = conductor.heartbeats.get(timeout=WAIT_S)
    assert beat['binary'] == 'orchestrator-compute'
    assert beat['resources'] == {
        'vcpus': conf.compute.vcpus, 'memory_mb': conf.compute.memory_mb,
        'local_gb': conf.compute.disk_gb, 'hypervisor_type': 'fake',
        'availability_zone': conf.compute.availability_zone}


def test_heartbeats_repeat_every_interval(conf, memory_rpc, conductor,
                                          host_name, state_dir):
    conf.set_override('heartbeat_interval_s', 0.1, group='compute')
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    try:
        for _ in range(3):
            conductor.heartbeats.get(timeout=WAIT_S)
    finally:
        service.stop()


def test_stop_wakes_a_hanging_call_which_fails_typed(
        service, compute, ctxt, host_name, state_dir):
    fake_faults.write_runtime_faults(state_dir, host_name,
                                     {'spawn': 'hang'})
    outcome = {}

    def call_spawn():
        try:
            compute.spawn(ctxt, host_name, make_instance(), IMAGE)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            outcome['error'] = e

    caller = threading.Thread(target=call_spawn, daemon=True)
    caller.start()
    caller.join(0.5)
    assert caller.is_alive()
    service.stop()
    caller.join(WAIT_S)
    assert not caller.is_alive()
    assert isinstance(outcome['error'], exception.InjectedFault)


def test_start_and_stop_are_idempotent_and_a_restart_keeps_guests(
        service, compute, ctxt, host_name):
    instance = make_instance()
    compute.spawn(ctxt, host_name, instance, IMAGE)
    service.start()
    service.stop()
    service.stop()
    assert not service.running
    service.start()
    assert compute.list_instances(ctxt, host_name) == {
        instance['uuid']: states.RUNNING}


def test_two_hosts_in_one_process(conf, memory_rpc, conductor, compute,
                                  ctxt, host_name, tmp_path):
    services = []
    for name in (host_name + '-a', host_name + '-b'):
        driver = fake.FakeDriver(name, conf, state_dir=str(tmp_path))
        services.append(compute_service.ComputeService(name, driver, conf))
        services[-1].start()
    try:
        instance = make_instance()
        compute.spawn(ctxt, host_name + '-a', instance, IMAGE)
        assert compute.list_instances(ctxt, host_name + '-b') == {}
        assert compute.list_instances(ctxt, host_name + '-a') == {
            instance['uuid']: states.RUNNING}
    finally:
        for service in services:
            service.stop()


def test_heartbeats_resume_after_failing_beats(conf, memory_rpc, conductor,
                                               host_name, state_dir):
    conf.set_override('heartbeat_interval_s', 0.1, group='compute')
    fake_faults.write_runtime_faults(
        state_dir, host_name, {'get_available_resources': 'raise'})
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    try:
        with pytest.raises(queue.Empty):
            conductor.heartbeats.get(timeout=0.5)
        fake_faults.write_runtime_faults(state_dir, host_name, {})
        conductor.heartbeats.get(timeout=WAIT_S)
    finally:
        service.stop()
    assert driver.host_state()['calls']['get_available_resources'] >= 3


def test_stop_is_not_held_up_by_a_hanging_heartbeat(
        conf, memory_rpc, conductor, host_name, state_dir):
    fake_faults.write_runtime_faults(
        state_dir, host_name, {'get_available_resources': 'hang'})
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start()
    stopper = threading.Thread(target=service.stop, daemon=True)
    stopper.start()
    # Well within HEARTBEAT_STOP_TIMEOUT_S: stop wakes the beat, it does
    # not merely give up on it.
    stopper.join(compute_service.HEARTBEAT_STOP_TIMEOUT_S / 3)
    assert not stopper.is_alive()
    assert not service.running
