"""Fixtures of the API tests: the WSGI app on a seeded SQLite database,
a real RPC conductor stand-in on the in-memory broker, and helpers to
make instances and hosts directly in the database.
"""

import contextlib
import datetime
import json
import uuid

import oslo_messaging as messaging
import pytest
import sqlalchemy as sa
import webob
import webob.dec

from orchestrator import context
from orchestrator import rpc
from orchestrator import state_machine
from orchestrator.api import app as api_app
from orchestrator.api import request as api_request
from orchestrator.api import server_create
from orchestrator.compute import manager as compute_manager
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.compute.drivers import fake
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from orchestrator.scheduler import host_selection

CIRROS = catalog.DEFAULT_IMAGES[0][0]
DEBIAN = catalog.DEFAULT_IMAGES[1][0]
PROJECT = 'default'
USER = 'admin'


@pytest.fixture
def app(db, conf):
    """The whole WSGI stack (noauth: an admin of project 'default')."""
    return api_app.build_app(conf)


def persona_app(conf, user_id, project_id, roles):
    """The API as a caller with ``roles`` in ``project_id`` sees it (the
    context a real auth strategy would build)."""
    inner = api_app.APIApplication(api_app.build_router(), conf)

    @webob.dec.wsgify
    def as_persona(req):
        req.environ[api_request.CONTEXT_KEY] = context.RequestContext(
            user_id=user_id, project_id=project_id, roles=list(roles),
            is_admin='admin' in roles,
            request_id='req-%s' % uuid.uuid4(), overwrite=False)
        return req.get_response(inner)
    return as_persona


@pytest.fixture
def member_app(db, conf):
    """The API as a member of project 'default' sees it."""
    return persona_app(conf, 'member', PROJECT, ['member'])


@pytest.fixture
def other_member_app(db, conf):
    """The API as a member of another project ('beta') sees it."""
    return persona_app(conf, 'beta-member', 'beta', ['member'])


def call(app, method, path, body=None, version=None, headers=None,
         raw=None):
    """One request through ``app``; returns the webob response.

    :param version: sent as ``OpenStack-API-Version: compute <version>``.
    :param raw: a body sent as it is (bytes), for malformed-input tests.
    """
    headers = dict(headers or {})
    if version is not None:
        headers['OpenStack-API-Version'] = 'compute %s' % version
    req = webob.Request.blank(path, method=method, headers=headers)
    if raw is not None:
        req.body = raw
        req.content_type = 'application/json'
    elif body is not None:
        req.body = json.dumps(body).encode('utf-8')
        req.content_type = 'application/json'
    return req.get_response(app)


class RecordingConductor:
    """A conductor endpoint that records the calls and returns job ids."""

    target = messaging.Target(version='1.4')

    def __init__(self):
        self.calls = []

    def _record(self, method, ctxt, **kwargs):
        self.calls.append((method, ctxt.request_id, kwargs))
        return 'job-%s' % uuid.uuid4()

    def build_instance(self, ctxt, instance_uuid, task_id, action_id,
                       params=None):
        extra = {} if params is None else {'params': params}
        return self._record('build_instance', ctxt,
                            instance_uuid=instance_uuid, task_id=task_id,
                            action_id=action_id, **extra)

    def delete_instance(self, ctxt, instance_uuid, task_id, action_id):
        return self._record('delete_instance', ctxt,
                            instance_uuid=instance_uuid, task_id=task_id,
                            action_id=action_id)

    def cleanup_instance(self, ctxt, instance_uuid, host, action_id):
        return self._record('cleanup_instance', ctxt,
                            instance_uuid=instance_uuid, host=host,
                            action_id=action_id)

    def start_action(self, ctxt, operation, instance_uuid, task_id,
                     action_id, params=None):
        extra = {} if params is None else {'params': params}
        return self._record('start_action', ctxt, operation=operation,
                            instance_uuid=instance_uuid, task_id=task_id,
                            action_id=action_id, **extra)

    def abort_live_migration(self, ctxt, instance_uuid, migration_uuid):
        self._record('abort_live_migration', ctxt,
                     instance_uuid=instance_uuid,
                     migration_uuid=migration_uuid)

    def calls_for(self, instance_uuid):
        """(method, request_id, kwargs) of one instance (the in-memory
        broker may still hold calls of an earlier test)."""
        return [c for c in self.calls
                if c[2].get('instance_uuid') == instance_uuid]


@pytest.fixture
def memory_rpc(conf):
    """This process's RPC transport on kombu's in-memory broker.

    NOTE(api): the URL is set explicitly (after registering oslo.messaging's
    options): an unset transport_url may mean oslo.messaging's default,
    rabbit://localhost, where another process's conductor could answer.
    """
    rpc.register_opts(conf)
    conf.set_override('transport_url', rpc.DEFAULT_IN_MEMORY_URL)
    transport = rpc.init(conf)
    yield transport
    rpc.cleanup()


@pytest.fixture
def conductor(memory_rpc):
    """A real RPC server on topic 'conductor' with a recording endpoint."""
    endpoint = RecordingConductor()
    server = rpc.get_server(
        messaging.Target(topic='conductor', server='test'), [endpoint])
    server.start()
    yield endpoint
    server.stop()
    server.wait()


@contextlib.contextmanager
def serving_compute(conf, host):
    """The compute agent of ``host`` on the process's RPC transport: the
    real manager over a fake driver (state under ``[DEFAULT]
    state_path``), serving RPC without heartbeats. Yields the driver."""
    driver = fake.FakeDriver(host, conf)
    driver.init_host(host)
    server = rpc.get_server(
        messaging.Target(topic=compute_rpcapi.TOPIC, server=host),
        [compute_manager.ComputeManager(host, driver)])
    server.start()
    try:
        yield driver
    finally:
        server.stop()
        server.wait()
        driver.cleanup_host(host)


@pytest.fixture
def compute_agent(memory_rpc, conf, tmp_path):
    """The compute agent of host 'h1' (:func:`serving_compute`), its
    state in the test's directory. Yields the driver (tests spawn guests
    on it)."""
    conf.set_override('state_path', str(tmp_path))
    with serving_compute(conf, 'h1') as driver:
        yield driver


@pytest.fixture
def no_conductor(memory_rpc, conf):
    """RPC works but no conductor listens; calls time out after 1 s."""
    conf.set_override('conductor_rpc_timeout_s', 1)
    return None


def make_instance(vm_state=None, task_state='unset', host=None,
                  project_id=PROJECT, flavor_id='1', image_ref=CIRROS,
                  **values):
    """An instance inserted as the API would, then moved to ``vm_state``
    (and ``task_state``, None by default once not building) with one
    compare-and-swap write."""
    flavor = catalog.flavor_get(flavor_id)
    row = {
        'display_name': 'vm-%s' % uuid.uuid4().hex[:6],
        'project_id': project_id, 'user_id': USER,
        'flavor_id': flavor['flavorid'],
        'flavor': server_create.flavor_snapshot(flavor),
        'vcpus': flavor['vcpus'], 'memory_mb': flavor['memory_mb'],
        'root_gb': flavor['root_gb'], 'ephemeral_gb': 0,
        'image_ref': image_ref, 'hostname': 'vm', 'reservation_id': 'r-1',
    }
    row.update(values)
    instance, _action = db_instances.create(
        row, {'request_id': 'req-%s' % uuid.uuid4(), 'user_id': USER,
              'project_id': project_id})
    update = {}
    if host is not None:
        update.update(host=host, node=host)
    if vm_state is not None and vm_state != instance['vm_state']:
        update['vm_state'] = vm_state
    if task_state == 'unset' and vm_state not in (None, 'building'):
        task_state = None
    if task_state != 'unset':
        update['task_state'] = task_state
        if task_state is None:
            update['task_id'] = None
    if update:
        instance = db_instances.cas_update(
            instance['uuid'], instance['task_id'], update,
            action=state_machine.BOOT if update.get('vm_state') == 'active'
            else None)
    return instance


def make_compute_host(host, up=True):
    """A compute host with its service and node (8 vCPU, 8 GiB, 100 GB);
    ``up=False`` makes its last heartbeat an hour old."""
    db_hosts.heartbeat(host, host_selection.COMPUTE_BINARY)
    db_hosts.update_compute_node(host, 8, 8192, 100)
    if not up:
        with session.writer() as s:
            s.execute(sa.update(models.Service).where(
                models.Service.host == host).values(
                    last_seen_at=models.utcnow()
                    - datetime.timedelta(hours=1)))


def make_instance_in_state(vm_state, task_state=None, host=None,
                           project_id=PROJECT, **values):
    """An active instance put straight into any (vm_state, task_state),
    as a crash or a host could leave it (no transition rule applies);
    ``values``: other columns (power_state, ...)."""
    instance = make_instance('active', host=host, project_id=project_id)
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                vm_state=vm_state, task_state=task_state,
                task_id=str(uuid.uuid4()) if task_state else None,
                **values))
    return db_instances.get(instance['uuid'])


def record_shelved_image(instance_uuid, image_id):
    """Write ``image_id`` as the instance's shelved image
    (system_metadata), as a shelve's commit leaves it."""
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(
                system_metadata={'shelved_image_id': image_id}))
    return db_instances.get(instance_uuid)
