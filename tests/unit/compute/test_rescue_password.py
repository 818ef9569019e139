"""The rescue step with a sealed password (flows.tasks.rescue): it opens
the password just before its call, over a real transport (kombu's
in-memory broker), to a real compute service on a fake host."""

import hashlib

import pytest

from orchestrator import secret_box
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.compute import service as compute_service
from orchestrator.compute.drivers import fake
from orchestrator.db import instances

from flows import keys
from flows.tasks import rescue
from tests.unit.api.conftest import make_instance
from tests.unit.compute.conftest import IMAGE

pytestmark = pytest.mark.timeout(60)

PASSWORD = 'Rescue-Pass-51f3'


@pytest.fixture
def key_file(conf, tmp_path):
    path = str(tmp_path / 'secrets.key')
    secret_box.create_key_file(path)
    conf.set_override('secrets_key_file', path)
    conf.set_override('compute_rpc_timeout_s', 10)
    return path


@pytest.fixture
def host(conf, db, memory_rpc, host_name, state_dir):
    driver = fake.FakeDriver(host_name, conf, state_dir=state_dir)
    service = compute_service.ComputeService(host_name, driver, conf)
    service.start(heartbeat=False)
    yield driver
    service.stop()


def _claimed_instance(driver):
    """An active instance on ``driver``'s host, its guest running there,
    claimed for a rescue: (uuid, task_id)."""
    inst = make_instance(states.ACTIVE, host=driver.host)
    driver.spawn(compute_rpcapi.instance_payload(inst), IMAGE)
    claimed, _act = instances.claim(
        inst['uuid'], state_machine.RESCUE,
        {'request_id': 'r2', 'user_id': 'u', 'project_id': 'p'})
    return inst['uuid'], claimed['task_id']


def _run(uuid_, task_id, params):
    return rescue.RescueOnHost().execute(
        {'user': 'u', 'project_id': 'p'}, uuid_, task_id, params, IMAGE)


def _rescue_record(driver, uuid_):
    return driver.host_state()['guests'][uuid_].get('rescue')


def test_the_host_gets_the_password_the_store_only_its_sealed_form(
        key_file, host):
    uuid_, task_id = _claimed_instance(host)
    params = {keys.SEALED_ADMIN_PASSWORD: secret_box.seal(PASSWORD),
              'rescue_image_ref': None}
    assert PASSWORD not in repr(params)
    assert _run(uuid_, task_id, params) == states.RUNNING
    assert _rescue_record(host, uuid_) == {
        'image_id': IMAGE['id'],
        'password_sha256': hashlib.sha256(PASSWORD.encode()).hexdigest()}
    # Resumed after a crash, the step runs again from the same store.
    assert _run(uuid_, task_id, params) == states.RUNNING
    assert host.host_state()['calls']['rescue'] == 2
    assert _rescue_record(host, uuid_)['password_sha256'] == \
        hashlib.sha256(PASSWORD.encode()).hexdigest()


def test_a_password_sealed_with_another_key_stops_before_the_host(
        conf, key_file, host, tmp_path):
    uuid_, task_id = _claimed_instance(host)
    other = str(tmp_path / 'other.key')
    secret_box.create_key_file(other)
    conf.set_override('secrets_key_file', other)
    params = {keys.SEALED_ADMIN_PASSWORD: secret_box.seal(PASSWORD)}
    conf.set_override('secrets_key_file', key_file)
    with pytest.raises(secret_box.SecretUnreadable):
        _run(uuid_, task_id, params)
    assert host.host_state()['calls'].get('rescue', 0) == 0
    assert _rescue_record(host, uuid_) is None


def test_a_flow_accepted_before_sealing_keeps_its_password(key_file, host):
    uuid_, task_id = _claimed_instance(host)
    _run(uuid_, task_id, {'admin_password': 'legacy-pass'})
    assert _rescue_record(host, uuid_)['password_sha256'] == \
        hashlib.sha256(b'legacy-pass').hexdigest()


def test_rescue_password_helper(key_file):
    assert rescue.rescue_password({}) is None
    sealed = secret_box.seal(PASSWORD)
    assert rescue.rescue_password(
        {keys.SEALED_ADMIN_PASSWORD: sealed}) == PASSWORD
