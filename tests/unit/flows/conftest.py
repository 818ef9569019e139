"""Fixtures of the per-step tests: one world per test module.

``world`` (module scope, so the whole directory runs in seconds): the
configuration, a fresh SQLite database with the seeded flavors and
images, this process's RPC transport on kombu's in-memory broker, and
three fake compute hosts (:data:`tests.unit.flows.harness.HOSTS`), each a
real :class:`orchestrator.compute.manager.ComputeManager` with the fake
driver served by a real RPC server. Steps reach them through
``flows.base.compute_api()`` as in a conductor. Tests stay apart by
working on instances of their own (a host file keys everything by
instance uuid).
"""

import uuid

import oslo_messaging as messaging
import pytest

from orchestrator import conf as orch_conf
from orchestrator import rpc
from orchestrator.compute import manager as compute_manager
from orchestrator.compute.drivers import fake
from orchestrator.compute.drivers import fake_faults
from orchestrator.db import hosts as db_hosts

from tests.conftest import _sync_and_seed
from tests.unit.api.conftest import make_compute_host
from tests.unit.flows import harness


@pytest.fixture(scope='module')
def world(tmp_path_factory, secrets_key_file):
    conf = orch_conf.CONF
    orch_conf.register_all()
    conf([], project='orchestrator', default_config_files=[],
         default_config_dirs=[])
    conf.set_override('secrets_key_file', secrets_key_file)
    # The hosts heartbeat once: up for the whole module, however slow.
    conf.set_override('service_down_time_s', 600)
    base_dir = tmp_path_factory.mktemp('flows')
    url = 'sqlite:///%s' % (base_dir / 'orchestrator.sqlite')
    conf.set_override('connection', url, group='database')
    engine = _sync_and_seed(url)
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    rpc.init(conf)
    state_dir = str(base_dir / 'fake-hosts')
    suffix = uuid.uuid4().hex[:6]
    names = {role: 'flows-%s-%s' % (role, suffix) for role in harness.HOSTS}
    drivers, servers = {}, []
    for role, host in names.items():
        driver = fake.FakeDriver(host, conf, state_dir=state_dir)
        driver.init_host(host)
        server = rpc.get_server(
            messaging.Target(topic='compute', server=host),
            [compute_manager.ComputeManager(host, driver)])
        server.start()
        drivers[role] = driver
        servers.append(server)
        make_compute_host(host)
        # Room for every instance the module makes.
        db_hosts.update_compute_node(host, 1000, 1024 * 1024, 100000)
    yield harness.World(conf, names, drivers, state_dir)
    for server in servers:
        server.stop()
        server.wait()
    for role, driver in drivers.items():
        fake_faults.write_runtime_faults(state_dir, names[role], None)
        driver.cleanup_host(names[role])
    rpc.cleanup()
    engine.dispose()
    conf.reset()


@pytest.fixture
def env(world):
    """The module's world; after each test no injected fault is left and
    the hosts forget its guests."""
    yield world
    world.clear_faults()
    world.forget_guests()
