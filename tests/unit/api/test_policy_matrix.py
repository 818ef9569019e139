"""The policy matrix: every route of the API x every persona, against a
running API server (cheroot on loopback, HTTP Basic authentication,
the real policy engine, a recording conductor on the in-memory broker).

The expectations are generated from the rules, not written by hand:

* a route's rule is the one of :mod:`orchestrator.policies` whose
  operations name it and that is not a refinement; a route no rule
  names (flavors) is for any authenticated caller;
* anonymous callers get 401 everywhere but the version documents and
  the web console's page and static files;
* a route on a resource of project ``alpha`` (a server, a private
  image) is a 404 for a caller who may not find it (another project's
  member): never a 403, which would confirm that it exists;
* otherwise the rule, evaluated with the persona's credentials on the
  target (the resource's project, or the caller's own for collections),
  says 2xx or 403.

Two invariants are asserted beside them, independent of the rules: a
reader never changes anything, and an administrator is never refused.
Each case gets its own server, in a state where its action is allowed,
so an allowed persona's answer is a real 2xx, not a 409.
"""

import uuid

import bcrypt
import pytest
import requests
import sqlalchemy as sa

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from orchestrator import context
from orchestrator import policies
from orchestrator import policy
from orchestrator import quota
from orchestrator import state_machine
from orchestrator import states
from orchestrator.api import app as api_app
from orchestrator.api import server_actions
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.compute.drivers import fake
from orchestrator.cmd import api as api_cmd
from orchestrator.db import actions as db_actions
from orchestrator.db import aggregates as db_aggregates
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import keypairs as db_keypairs
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import server_groups as db_groups
from orchestrator.db import session
from orchestrator.db import tags as db_tags
from orchestrator.policies import base as policy_base
from orchestrator.policies import server_actions as action_rules

from tests.unit.api import console_flows
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import record_shelved_image
from tests.unit.api.test_keypairs import SSH_KEY

OWNER = 'alpha'
VERSION = '2.47'
#: Collections served only below VERSION: {collection: a version where
#: they are}.
VERSION_OF = {'images': '2.35', 'os-hosts': '2.42'}
PASSWORD = 'matrix-password'

#: persona -> (project, roles); None: no credentials at all.
PERSONAS = {
    'admin': ('admin-project', ['admin']),
    'member': (OWNER, ['member']),
    'reader': (OWNER, ['reader']),
    'other-member': ('beta', ['member']),
    'anonymous': None,
}

#: Path parameters that name a resource owned by project OWNER.
OWNED_PARAMS = ('server_id', 'image_id', 'request_id', 'migration_id',
                'server_group_id', 'flow_id')

ACTION_PATH = '/v2.1/servers/{server_id}/action'

#: action body key -> (vm_state of the server, request body value).
ACTIONS = {
    'os-stop': (states.ACTIVE, None),
    'os-start': (states.STOPPED, None),
    'reboot': (states.ACTIVE, {'type': 'SOFT'}),
    'pause': (states.ACTIVE, None),
    'unpause': (states.PAUSED, None),
    'suspend': (states.ACTIVE, None),
    'resume': (states.SUSPENDED, None),
    'rescue': (states.ACTIVE, None),
    'unrescue': (states.RESCUED, None),
    'rebuild': (states.ACTIVE, {'imageRef': CIRROS}),
    'createImage': (states.ACTIVE, {'name': 'matrix-snapshot'}),
    'createBackup': (states.ACTIVE, {'name': 'matrix-backup',
                                     'backup_type': 'daily',
                                     'rotation': 1}),
    'changePassword': (states.ACTIVE, {'adminPass': 'matrix-Pa55'}),
    'trigger_crash_dump': (states.ACTIVE, None),
    'resize': (states.ACTIVE, {'flavorRef': '2'}),
    'confirmResize': (states.RESIZED, None),
    'revertResize': (states.RESIZED, None),
    'restore': (states.SOFT_DELETED, None),
    'forceDelete': (states.SOFT_DELETED, None),
    'migrate': (states.ACTIVE, None),
    'os-migrateLive': (states.ACTIVE,
                       {'host': None, 'block_migration': 'auto'}),
    'evacuate': (states.ACTIVE, {}),
    'os-resetState': (states.ACTIVE, {'state': 'error'}),
    'lock': (states.ACTIVE, None),
    'unlock': (states.ACTIVE, None),
    'os-getConsoleOutput': (states.ACTIVE, {'length': 5}),
    'os-getVNCConsole': (states.ACTIVE, {'type': 'novnc'}),
    'os-getSPICEConsole': (states.ACTIVE, {'type': 'spice-html5'}),
    'os-getRDPConsole': (states.ACTIVE, {'type': 'rdp-html5'}),
    'os-getSerialConsole': (states.ACTIVE, {'type': 'serial'}),
    'shelve': (states.ACTIVE, None),
    'shelveOffload': (states.SHELVED, None),
    'unshelve': (states.SHELVED_OFFLOADED, None),
}

#: Routes (method, template, action key) a permitted caller cannot get a
#: 2xx from here, and what it gets instead: remote consoles need a
#: console proxy this deployment does not run (Nova's 400 "Unavailable
#: console type"). The policy is still checked before: 403 to others.
NOT_SERVED = {
    ('POST', '/v2.1/servers/{server_id}/remote-consoles', None): 400,
    ('POST', ACTION_PATH, 'os-getVNCConsole'): 400,
    ('POST', ACTION_PATH, 'os-getSPICEConsole'): 400,
    ('POST', ACTION_PATH, 'os-getRDPConsole'): 400,
    ('POST', ACTION_PATH, 'os-getSerialConsole'): 400,
    # Nor does it power its hosts (os-hosts before 2.43).
    ('GET', '/v2.1/os-hosts/{host_name}/startup', None): 400,
    ('GET', '/v2.1/os-hosts/{host_name}/shutdown', None): 400,
    ('GET', '/v2.1/os-hosts/{host_name}/reboot', None): 400,
    # The console signs in with a password under keystone only; this
    # matrix runs http_basic.
    ('POST', '/console/api/login', None): 400,
}

#: (method, template) of server routes -> their request body.
SERVER_BODIES = {
    ('PUT', '/v2.1/servers/{server_id}'): {'server': {'name': 'renamed'}},
    ('POST', '/v2.1/servers/{server_id}/metadata'): {
        'metadata': {'matrix': 'changed'}},
    ('PUT', '/v2.1/servers/{server_id}/metadata'): {
        'metadata': {'matrix': 'changed'}},
    ('PUT', '/v2.1/servers/{server_id}/metadata/{key}'): {
        'meta': {'matrix': 'changed'}},
    ('POST', '/v2.1/images/{image_id}/metadata'): {
        'metadata': {'matrix': 'changed'}},
    ('PUT', '/v2.1/images/{image_id}/metadata'): {
        'metadata': {'matrix': 'changed'}},
    ('PUT', '/v2.1/images/{image_id}/metadata/{key}'): {
        'meta': {'matrix': 'changed'}},
}

FLAVOR_ACTION_PATH = '/v2.1/flavors/{flavor_id}/action'
#: Flavor action body key -> its body (on a fresh non-public flavor).
FLAVOR_ACTIONS = {'addTenantAccess': {'tenant': 'matrix-tenant'},
                  'removeTenantAccess': {'tenant': 'matrix-tenant'}}


AGGREGATE_ACTION_PATH = '/v2.1/os-aggregates/{aggregate_id}/action'
#: Aggregate action body key -> its body (on a fresh aggregate holding
#: h2).
AGGREGATE_ACTIONS = {'add_host': {'host': 'h1'},
                     'remove_host': {'host': 'h2'},
                     'set_metadata': {'metadata': {'matrix': 'v'}}}


def _cases():
    """(method, template, action key or None) of every route."""
    cases = []
    for route in api_app.build_router().routes():
        if route.template == ACTION_PATH:
            cases.extend(('POST', route.template, key)
                         for key in sorted(ACTIONS))
        elif route.template == FLAVOR_ACTION_PATH:
            cases.extend(('POST', route.template, key)
                         for key in sorted(FLAVOR_ACTIONS))
        elif route.template == AGGREGATE_ACTION_PATH:
            cases.extend(('POST', route.template, key)
                         for key in sorted(AGGREGATE_ACTIONS))
        else:
            cases.append((route.method, route.template, None))
    return cases


def _rule_of(method, template, action):
    """The rule guarding a route (None: any authenticated caller)."""
    path = template[len('/v2.1'):] if template.startswith('/v2.1') \
        else template
    if action is not None:
        path = '%s (%s)' % (path, action)
    found = [r.name for r in policies.list_rules()
             if r.name not in policy_base.REFINEMENTS
             and isinstance(r, oslo_policy.DocumentedRuleDefault)
             and {'method': method, 'path': path} in r.operations]
    assert len(found) <= 1, (method, path, found)
    return found[0] if found else None


def _is_public(method, template):
    if (method, template) == ('POST', '/console/api/login'):
        return True
    return method == 'GET' and (template.rstrip('/') in (
        '', '/v2.1', '/v2', '/identity', '/identity/v3', '/image',
        '/image/v2', '/console/api/session', '/console')
        or template.startswith('/console/static/'))


def _expected(conf, persona, method, template, action):
    """The status class the rules give: '2xx', 401, 403 or 404."""
    if PERSONAS[persona] is None:
        return NOT_SERVED.get((method, template, action), '2xx') \
            if _is_public(method, template) else 401
    project, roles = PERSONAS[persona]
    ctxt = context.RequestContext(user_id=persona, project_id=project,
                                  roles=roles, overwrite=False)
    owned = any('{%s}' % p in template for p in OWNED_PARAMS)
    if owned and not policy.sees_all_projects(conf, ctxt) \
            and project != OWNER:
        return 404
    rule = _rule_of(method, template, action)
    served = NOT_SERVED.get((method, template, action), '2xx')
    if rule is None:
        return served
    target = {'project_id': OWNER if owned or '{project_id}' in template
              or '{tenant_id}' in template else project}
    return served if policy.check(conf, ctxt, rule, target) else 403


@pytest.fixture
def api_server(db, conf, conductor, compute_agent, tmp_path):
    """A running API (HTTP Basic, one user per persona); its base URL."""
    users = tmp_path / 'users'
    lines = []
    for persona, found in PERSONAS.items():
        if found is None:
            continue
        project, roles = found
        digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4))
        lines.append('%s:%s:%s:%s' % (persona, digest.decode(), project,
                                      ','.join(roles)))
    users.write_text('\n'.join(lines) + '\n')
    users.chmod(0o600)
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(users), group='api')
    # NOTE: every case makes a server of OWNER and none goes: quotas
    # (tests/unit/api/test_quotas_api.py) would refuse the restore.
    for resource in ('instances', 'cores', 'ram'):
        conf.set_override(resource, -1, group='quota')
    server = api_cmd.APIServer(api_app.build_app(conf), '127.0.0.1', 0,
                               threads=4)
    server.start()
    yield 'http://127.0.0.1:%d' % server.port
    server.stop()


def _owned_resources(method, template, action):
    """Make what the route acts on: a server of project OWNER in the
    state its action needs (and hosts, migrations, images around it).
    Returns the path parameters."""
    make_compute_host('h1', up=action != 'evacuate')
    make_compute_host('h2')
    vm_state = ACTIONS[action][0] if action in ACTIONS else states.ACTIVE
    task_state = None
    if template.endswith('{migration_id}') and method == 'DELETE':
        task_state = states.MIGRATING
    instance = make_instance_in_state(vm_state, task_state, host='h1',
                                      project_id=OWNER,
                                      power_state=states.RUNNING)
    params = {'server_id': instance['uuid'], 'project_id': OWNER,
              'tenant_id': OWNER, 'flavor_id': '1'}
    if '/metadata' in template:
        db_instances.update_metadata(instance['uuid'],
                                     lambda _old: {'matrix': 'item'})
        params['key'] = 'matrix'
    if action in ('shelveOffload', 'unshelve'):
        image = catalog.image_create('matrix-shelved', status='active',
                                     owner=OWNER)
        record_shelved_image(instance['uuid'], image['id'])
    if action in ('confirmResize', 'revertResize'):
        migration_records.create(
            instance['uuid'], 'resize', states.MIGRATION_FINISHED,
            source_compute='h1', dest_compute='h2',
            old_flavor=instance['flavor'], new_flavor=instance['flavor'],
            project_id=OWNER, user_id='member')
    if '{migration_id}' in template:
        migration = migration_records.create(
            instance['uuid'], 'live-migration', states.MIGRATION_RUNNING,
            source_compute='h1', dest_compute='h2',
            old_flavor=instance['flavor'], new_flavor=instance['flavor'],
            project_id=OWNER, user_id='member')
        params['migration_id'] = str(migration['id'])
    if '{request_id}' in template:
        [act] = db_actions.list_for_instance(instance['uuid'])
        params['request_id'] = act['request_id']
    if '{flow_id}' in template:
        params['flow_id'] = console_flows.repairable_boot(OWNER)[2]
    if '{network_label}' in template:
        with session.writer() as s:
            s.execute(sa.update(models.Instance).where(
                models.Instance.uuid == instance['uuid']).values(networks=[{
                    'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
                    'ips': [{'addr': '10.0.0.3', 'version': 4,
                             'type': 'fixed'}]}]))
        params['network_label'] = 'private'
    if '{image_id}' in template:
        # An upload needs a queued image.
        image = catalog.image_create(
            'private-of-alpha', owner=OWNER, status='queued'
            if template.endswith('/file') and method == 'PUT' else 'active',
            properties={'matrix': 'item'})
        params['image_id'] = image['id']
    if template.startswith('/v2.1/flavors/{flavor_id}') and (
            method != 'GET' or template != '/v2.1/flavors/{flavor_id}'):
        # A flavor of its own (a delete must not take flavor 1), with an
        # extra spec; non-public where its access list is the subject.
        flavor_id = 'matrix-%s' % uuid.uuid4().hex[:12]
        private = action is not None or 'os-flavor-access' in template
        catalog.flavor_create({
            'flavorid': flavor_id, 'name': flavor_id, 'vcpus': 1,
            'memory_mb': 64, 'root_gb': 1, 'is_public': not private,
            'extra_specs': {'matrix:key': 'v'}})
        if action == 'removeTenantAccess':
            catalog.flavor_access_add(flavor_id, 'matrix-tenant')
        params.update(flavor_id=flavor_id, key='matrix:key')
    if action == 'os-getConsoleOutput' or template.endswith('/diagnostics'):
        # The guest on h1's agent (compute_agent: same state directory).
        fake.FakeDriver('h1', cfg.CONF).spawn(
            compute_rpcapi.instance_payload(instance),
            {'id': CIRROS, 'name': 'cirros', 'size': 1})
    if '/tags' in template:
        db_tags.replace_all(instance['uuid'], ['matrix'])
        params['tag'] = 'matrix'
    if '{keypair_name}' in template:
        # Keypairs are each user's own: every persona has this one.
        params['keypair_name'] = 'matrix-%s' % uuid.uuid4().hex[:12]
        for user in PERSONAS:
            db_keypairs.create(user, params['keypair_name'], SSH_KEY,
                               'fingerprint', 'ssh', -1)
    if '{server_group_id}' in template:
        params['server_group_id'] = db_groups.create(
            OWNER, 'member', 'matrix', db_groups.AFFINITY, {},
            quota.for_project(cfg.CONF, OWNER))['uuid']
    if '{aggregate_id}' in template:
        aggregate = db_aggregates.create(
            'matrix-%s' % uuid.uuid4().hex[:12])
        if action in AGGREGATE_ACTIONS:
            db_aggregates.add_host(aggregate['id'], 'h2')
        params['aggregate_id'] = str(aggregate['id'])
    if '{hypervisor_id}' in template:
        [node] = [n for n in db_hosts.list_compute_nodes()
                  if n['host'] == 'h1']
        params['hypervisor_id'] = str(node['id'])
    params['asset_name'] = 'console.js'
    params['before_timestamp'] = '2026-01-01 00:00:00'
    params['alias'] = 'os-hosts'
    params['hypervisor_hostname_pattern'] = 'h1'
    params['host_name'] = 'h1'
    if template == '/v2.1/os-services/{service_id}':
        if method == 'PUT':
            # Before 2.53 the id is the legacy action's name.
            params['service_id'] = 'disable'
        else:
            # A service of its own, without instances, to delete.
            service = db_hosts.heartbeat(
                'matrix-%s' % uuid.uuid4().hex[:12], 'orchestrator-conductor')
            params['service_id'] = str(service['id'])
    return params


def _request(base, persona, method, template, action, params):
    path = template.format(**params)
    body = None
    if action in FLAVOR_ACTIONS:
        body = {action: FLAVOR_ACTIONS[action]}
    elif action in AGGREGATE_ACTIONS:
        body = {action: AGGREGATE_ACTIONS[action]}
    elif action is not None:
        body = {action: ACTIONS[action][1]}
    elif (method, template) == ('POST', '/v2.1/servers'):
        body = {'server': {'name': 'matrix', 'imageRef': CIRROS,
                           'flavorRef': '1', 'networks': 'none'}}
    if (method, template) in SERVER_BODIES:
        body = SERVER_BODIES[(method, template)]
    auth = None if PERSONAS[persona] is None else (persona, PASSWORD)
    headers = {'OpenStack-API-Version': 'compute %s' % VERSION_OF.get(
        (template.split('/') + ['', ''])[2], VERSION)}
    if (method, template) == ('POST', '/v2.1/flavors'):
        body = {'flavor': {'name': 'matrix-%s' % uuid.uuid4().hex[:12],
                           'ram': 64, 'vcpus': 1, 'disk': 1}}
    if (method, template) == ('PUT', '/v2.1/flavors/{flavor_id}'):
        # A method of 2.55 on.
        headers['OpenStack-API-Version'] = 'compute 2.55'
        body = {'flavor': {'description': 'matrix'}}
    if (method, template) == ('POST',
                              '/v2.1/flavors/{flavor_id}/os-extra_specs'):
        body = {'extra_specs': {'matrix:other': 'v'}}
    if (method, template) == (
            'PUT', '/v2.1/flavors/{flavor_id}/os-extra_specs/{key}'):
        body = {params['key']: 'w'}
    if (method, template) == ('PUT', '/v2.1/servers/{server_id}/tags'):
        body = {'tags': ['matrix', 'other']}
    if (method, template) == ('POST', '/v2.1/os-keypairs'):
        body = {'keypair': {'name': 'matrix-%s' % uuid.uuid4().hex[:12],
                            'public_key': SSH_KEY}}
    if template == '/v2.1/servers/{server_id}/remote-consoles':
        body = {'remote_console': {'protocol': 'vnc', 'type': 'novnc'}}
    if (method, template) == ('PUT', '/v2.1/os-hosts/{host_name}'):
        body = {'status': 'enable'}
    if (method, template) == ('PUT', '/v2.1/os-services/{service_id}'):
        body = {'host': 'h2', 'binary': 'orchestrator-compute'}
    if (method, template) == ('POST', '/v2.1/os-server-groups'):
        body = {'server_group': {'name': 'matrix',
                                 'policies': ['affinity']}}
    if (method, template) == ('PATCH', '/image/v2/images/{image_id}'):
        headers['Content-Type'] = \
            'application/openstack-images-v2.1-json-patch'
        body = [{'op': 'replace', 'path': '/name', 'value': 'renamed'}]
    if (method, template) == ('POST', '/image/v2/images'):
        body = {'name': 'matrix', 'disk_format': 'raw',
                'container_format': 'bare'}
    if (method, template) == ('POST', '/v2.1/os-aggregates'):
        body = {'aggregate': {'name': 'matrix-%s' % uuid.uuid4().hex[:12],
                              'availability_zone': 'matrix-zone'}}
    if (method, template) == ('PUT', '/v2.1/os-aggregates/{aggregate_id}'):
        body = {'aggregate': {'name': 'matrix-%s' % uuid.uuid4().hex[:12]}}
    if method == 'POST' and template.startswith('/console/api/flows/'):
        body = {'confirm': True}
    if (method, template) == ('PUT', '/v2.1/os-quota-sets/{project_id}'):
        body = {'quota_set': {'instances': -1}}
    return requests.request(method, base + path, json=body, auth=auth,
                            headers=headers, timeout=30)


def _class(status):
    """'2xx' for a success (a version document's 300 Multiple Choices
    included), else the status."""
    return '2xx' if 200 <= status < 300 or status == 300 else status


CASES = _cases()


@pytest.mark.parametrize('persona', sorted(PERSONAS))
def test_every_route_for_a_persona(api_server, conf, persona):
    """One persona, every route: the answer is what the rules say."""
    wrong = []
    for method, template, action in CASES:
        params = _owned_resources(method, template, action)
        expected = _expected(conf, persona, method, template, action)
        resp = _request(api_server, persona, method, template, action,
                        params)
        label = '%s %s%s' % (method, template,
                             ' (%s)' % action if action else '')
        if _class(resp.status_code) != expected:
            wrong.append('%s: expected %s, got %d %s' % (
                label, expected, resp.status_code, resp.text[:200]))
        # Invariants that do not come from the rules.
        if persona == 'reader' and method != 'GET' and not _is_public(
                method, template):
            # (The console's sign-in is a public POST that changes
            # nothing.)
            assert expected in (403, 401), label
        if persona == 'admin':
            assert expected == NOT_SERVED.get((method, template, action),
                                              '2xx'), label
    assert not wrong, '\n'.join(wrong)
    # The size of the matrix (routes x personas) is printed for the
    # closing note: pytest -s shows it.
    print('%s: %d routes checked' % (persona, len(CASES)))


def test_matrix_covers_every_route_and_rule():
    """Every non-refining rule guards a route of the matrix (a rule
    nobody reaches is a mistake), and every action has a setup."""
    assert set(ACTIONS) == set(server_actions.HANDLERS)
    used = {_rule_of(m, t, a) for m, t, a in CASES} - {None}
    guarding = {r.name for r in policies.list_rules()
                if isinstance(r, oslo_policy.DocumentedRuleDefault)
                and r.name not in policy_base.REFINEMENTS}
    assert guarding == used


def test_another_projects_server_is_404_not_403(api_server):
    """Spelled out for one server: beta's member cannot tell whether
    alpha's server exists."""
    instance = make_instance(states.ACTIVE, project_id=OWNER)
    missing = str(uuid.uuid4())
    for server_id in (instance['uuid'], missing):
        resp = requests.get('%s/v2.1/servers/%s' % (api_server, server_id),
                            auth=('other-member', PASSWORD), timeout=30)
        assert resp.status_code == 404
        assert resp.json() == {'itemNotFound': {
            'message': 'Instance %s could not be found.' % server_id,
            'code': 404}}


def test_state_machine_admin_actions_are_admin_only_in_the_matrix(conf):
    for key, (_rule, action) in sorted(
            action_rules.ACTIONS.items()):
        member = _expected(conf, 'member', 'POST', ACTION_PATH, key)
        assert (member == 403) == state_machine.ACTIONS[action].admin_only
