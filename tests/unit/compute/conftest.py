"""Fixtures of the compute tests: fake hosts in tmp_path, instances,
images, and an in-memory RPC transport."""

import uuid

import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator import rpc


def make_instance(**overrides):
    """An instance payload as the conductor sends it to a host."""
    values = {'uuid': str(uuid.uuid4()), 'display_name': 'vm',
              'hostname': 'vm', 'flavor': {'name': 'm1.tiny'}, 'vcpus': 1,
              'memory_mb': 512, 'root_gb': 1, 'ephemeral_gb': 0,
              'image_ref': 'image-1', 'task_id': str(uuid.uuid4()),
              'project_id': 'p', 'user_id': 'u', 'metadata': {}}
    values.update(overrides)
    return compute_rpcapi.instance_payload(values)


IMAGE = {'id': 'image-1', 'name': 'cirros', 'size': 16 * 1024 * 1024}


@pytest.fixture
def host_name():
    """A host name no other test uses (tests may share a broker)."""
    return 'host-%s' % uuid.uuid4().hex[:8]


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path / 'fake-hosts')


@pytest.fixture
def fake_driver(conf, state_dir, host_name):
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    driver.init_host(host_name)
    yield driver
    driver.cleanup_host(host_name)


@pytest.fixture
def memory_rpc(conf):
    """This process's transport on kombu's in-memory broker."""
    # oslo.messaging registers transport_url (default "rabbit://", a real
    # broker) only when it parses a URL: register it, then override it.
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    transport = rpc.init(conf)
    assert rpc.is_in_memory(conf.transport_url)
    yield transport
    rpc.cleanup()
