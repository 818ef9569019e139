"""Every main route, at every microversion boundary where tempest.lib has
a schema for it (up to the API's maximum, 2.79): the response at that
microversion validates against that schema (jsonschema, tempest's
validator and format checker), in process.

A boundary is a ``tempest.lib.api_schema.response.compute.v2_N``
package that defines the route's schema; packages above the API's
maximum are skipped. The schema used for a version is the newest
package at or below it that defines the schema name, so a route is
checked both where its body changes and where it is carried over.
(Server bodies at every single microversion, state by state, are
:mod:`tests.unit.api.test_old_clients`' subject.)
"""

import importlib
import pkgutil
import uuid

import pytest
from tempest.lib.api_schema.response import compute as tempest_compute

from orchestrator import states
from orchestrator.api import microversion
from orchestrator.db import actions as db_actions
from orchestrator.db import migration_records
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.test_keypairs import SSH_KEY


def _boundaries(resource, name):
    """[(2, N)] of tempest packages up to the maximum microversion whose
    ``resource`` module defines ``name``."""
    found = []
    for info in pkgutil.iter_modules(tempest_compute.__path__):
        if not info.name.startswith('v2_'):
            continue
        version = (2, int(info.name[3:]))
        if version > tuple(microversion.MAX_VERSION):
            continue
        try:
            module = importlib.import_module('%s.%s.%s' % (
                tempest_compute.__name__, info.name, resource))
        except ImportError:
            continue
        if hasattr(module, name):
            found.append(version)
    return sorted(found)


@pytest.fixture
def world(app, conductor):
    """Two compute hosts, a server on one with an action and a finished
    migration, a keypair and a server group."""
    make_compute_host('host1')
    make_compute_host('host2')
    server = make_instance(states.ACTIVE, host='host1', networks=[{
        'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
        'ips': [{'addr': '10.0.0.3', 'version': 4, 'type': 'fixed'}]}])
    [act] = db_actions.list_for_instance(server['uuid'])
    db_actions.event_start(act['id'], 'SpawnOnHost', host='host1')
    migration_records.create(
        server['uuid'], 'migration', states.MIGRATION_CONFIRMED,
        source_compute='host1', dest_compute='host2',
        old_flavor=server['flavor'], new_flavor=server['flavor'],
        project_id=server['project_id'], user_id='u')
    assert call(app, 'POST', '/v2.1/os-keypairs', {'keypair': {
        'name': 'kp', 'public_key': SSH_KEY}}).status_int == 200
    assert call(app, 'POST', '/v2.1/os-server-groups', {'server_group': {
        'name': 'g', 'policies': ['anti-affinity']}}).status_int == 200
    return {'server': server, 'request_id': act['request_id']}


def _get(path):
    return lambda app, world, version: call(
        app, 'GET', path.format(**world['ids']),
        version='2.%d' % version[1])


def _create_server(app, world, version):
    body = {'name': 'schema', 'imageRef': CIRROS, 'flavorRef': '1'}
    if version >= (2, 37):
        body['networks'] = 'none'
    return call(app, 'POST', '/v2.1/servers', {'server': body},
                version='2.%d' % version[1])


def _rebuild(app, world, version):
    fresh = make_instance(states.ACTIVE, host='host1')
    return call(app, 'POST', '/v2.1/servers/%s/action' % fresh['uuid'],
                {'rebuild': {'imageRef': CIRROS}},
                version='2.%d' % version[1])


def _update(app, world, version):
    return call(app, 'PUT', '/v2.1/servers/' + world['ids']['server'],
                {'server': {'name': 'renamed'}},
                version='2.%d' % version[1])


def _create_keypair(app, world, version):
    return call(app, 'POST', '/v2.1/os-keypairs', {'keypair': {
        'name': 'kp-%s' % uuid.uuid4().hex[:8]}},
        version='2.%d' % version[1])


def _hypervisor(app, world, version):
    text = '2.%d' % version[1]
    [first] = [h for h in call(app, 'GET', '/v2.1/os-hypervisors',
                               version=text).json['hypervisors']
               if h['hypervisor_hostname'] == 'host1']
    return call(app, 'GET', '/v2.1/os-hypervisors/%s' % first['id'],
                version=text)


def _create_group(app, world, version):
    group = {'name': 'g-%s' % uuid.uuid4().hex[:8]}
    if version >= (2, 64):
        group['policy'] = 'affinity'
    else:
        group['policies'] = ['affinity']
    return call(app, 'POST', '/v2.1/os-server-groups',
                {'server_group': group}, version='2.%d' % version[1])


#: (tempest resource module, schema name, request(app, world, version)).
ROUTES = [
    ('servers', 'create_server_with_admin_pass', _create_server),
    ('servers', 'get_server', _get('/v2.1/servers/{server}')),
    ('servers', 'list_servers', _get('/v2.1/servers')),
    ('servers', 'list_servers_detail', _get('/v2.1/servers/detail')),
    ('servers', 'update_server', _update),
    ('servers', 'rebuild_server_with_admin_pass', _rebuild),
    ('servers', 'list_instance_actions',
     _get('/v2.1/servers/{server}/os-instance-actions')),
    ('servers', 'show_instance_action',
     _get('/v2.1/servers/{server}/os-instance-actions/{request_id}')),
    ('flavors', 'list_flavors', _get('/v2.1/flavors')),
    ('flavors', 'list_flavors_details', _get('/v2.1/flavors/detail')),
    ('flavors', 'create_update_get_flavor_details', _get('/v2.1/flavors/1')),
    ('keypairs', 'list_keypairs', _get('/v2.1/os-keypairs')),
    ('keypairs', 'get_keypair', _get('/v2.1/os-keypairs/kp')),
    ('keypairs', 'create_keypair', _create_keypair),
    ('migrations', 'list_migrations', _get('/v2.1/os-migrations')),
    ('limits', 'get_limit', _get('/v2.1/limits')),
    ('quotas', 'get_quota_set', _get('/v2.1/os-quota-sets/{project}')),
    ('quotas', 'get_quota_set_details',
     _get('/v2.1/os-quota-sets/{project}/detail')),
    ('services', 'list_services', _get('/v2.1/os-services')),
    ('hypervisors', 'list_hypervisors_detail',
     _get('/v2.1/os-hypervisors/detail')),
    ('hypervisors', 'get_hypervisor', _hypervisor),
    ('server_groups', 'list_server_groups', _get('/v2.1/os-server-groups')),
    ('server_groups', 'create_show_server_group', _create_group),
]


def test_every_route_has_boundaries():
    for resource, name, _request in ROUTES:
        assert _boundaries(resource, name), (resource, name)
    # The newest schemas the API must meet are among them.
    assert (2, 79) in _boundaries('servers', 'get_server')
    assert (2, 61) in _boundaries('flavors', 'list_flavors_details')
    assert (2, 59) in _boundaries('migrations', 'list_migrations')


@pytest.mark.parametrize('resource, name, request_at', ROUTES,
                         ids=['%s.%s' % (r, n) for r, n, _q in ROUTES])
def test_route_matches_tempest_at_every_boundary(app, world, resource,
                                                 name, request_at):
    world['ids'] = {'server': world['server']['uuid'],
                    'request_id': world['request_id'],
                    'project': world['server']['project_id']}
    checked = []
    for version in _boundaries(resource, name):
        text = '2.%d' % version[1]
        resp = request_at(app, world, version)
        assert resp.headers['OpenStack-API-Version'] == 'compute ' + text
        oracle.check(resp, 'v2_%d' % version[1], resource, name)
        checked.append(text)
    assert checked
