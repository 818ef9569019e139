"""``/v2.1/extensions``: Nova's legacy list of API extensions (any
authenticated caller, every microversion from 2.1; Nova keeps it frozen
for old clients, which ask it whether a feature is there).

* ``GET /extensions`` (200 ``{"extensions": [...]}``), sorted by alias;
* ``GET /extensions/{alias}`` (200 ``{"extension": {...}}``; 404 for an
  alias not listed).

Each extension is ``{name, alias, description, namespace, updated,
links}``; ``namespace``, ``updated`` and ``links`` are the constants
Nova gives every entry since v2.1 dropped XML.

The list names only features this API serves: each entry carries its
evidence, a route template of the router or a server action key, and
``tests/unit/api/test_extensions.py`` checks that every evidence is
served. Features Nova lists that are not served here (volumes, floating
IPs, networks, cells, ...) are left out, so a client asking for one
learns the truth. Features carried by fields of other bodies only
(``OS-EXT-STS`` ...) are not listed either.
"""

import collections

from orchestrator import exception
from orchestrator.api import request as api_request
from orchestrator.policies import extensions as rules

#: Nova's namespace and date of every entry.
NAMESPACE = 'http://docs.openstack.org/compute/ext/fake_xml'
UPDATED = '2014-12-03T00:00:00Z'

Extension = collections.namedtuple(
    'Extension', 'alias name description route action')


def _route(alias, name, description, template):
    return Extension(alias, name, description, template, None)


def _action(alias, name, description, key):
    return Extension(alias, name, description, None, key)


_SERVER = '/v2.1/servers/{server_id}'

#: Every extension listed, with what shows it is served.
EXTENSIONS = (
    _action('os-admin-actions', 'AdminActions',
            'Actions reserved to administrators: resetting the state of '
            'a server.', 'os-resetState'),
    _route('os-aggregates', 'Aggregates',
           'Host aggregates, for administrators.', '/v2.1/os-aggregates'),
    _route('os-availability-zone', 'AvailabilityZone',
           'Availability zones: listing them, and booting into one.',
           '/v2.1/os-availability-zone'),
    _action('os-console-output', 'ConsoleOutput',
            'The console log of a server, or its last lines.',
            'os-getConsoleOutput'),
    _route('os-consoles', 'Consoles',
           'Remote consoles of a server.', _SERVER + '/remote-consoles'),
    _action('os-create-backup', 'CreateBackup',
            'Backups of a server, with a rotation.', 'createBackup'),
    _action('os-deferred-delete', 'DeferredDelete',
            'Restoring or force-deleting a soft-deleted server.',
            'restore'),
    _action('os-evacuate', 'Evacuate',
            'Rebuilding a server of a failed host on another host.',
            'evacuate'),
    _route('os-flavor-access', 'FlavorAccess',
           'Which projects may use a private flavor.',
           '/v2.1/flavors/{flavor_id}/os-flavor-access'),
    _route('os-flavor-extra-specs', 'FlavorExtraSpecs',
           'Extra specs of a flavor.',
           '/v2.1/flavors/{flavor_id}/os-extra_specs'),
    _route('os-flavor-manage', 'FlavorManage',
           'Creating and deleting flavors.', '/v2.1/flavors/{flavor_id}'),
    _route('os-hosts', 'Hosts',
           'Compute hosts, for administrators.', '/v2.1/os-hosts'),
    _route('os-hypervisors', 'Hypervisors',
           'Hypervisors and their resources, for administrators.',
           '/v2.1/os-hypervisors'),
    _route('os-instance-actions', 'InstanceActions',
           'The actions taken on a server, and their events.',
           _SERVER + '/os-instance-actions'),
    _route('os-instance_usage_audit_log', 'OSInstanceUsageAuditLog',
           'The usage audit log of the compute hosts, for '
           'administrators.', '/v2.1/os-instance_usage_audit_log'),
    _route('os-keypairs', 'Keypairs', 'SSH key pairs.',
           '/v2.1/os-keypairs'),
    _action('os-lock-server', 'LockServer',
            'Locking a server against changes by its project.', 'lock'),
    _action('os-migrate-server', 'MigrateServer',
            'Cold and live migration of a server, for administrators.',
            'os-migrateLive'),
    _route('os-migrations', 'Migrations',
           'The migrations of every server, for administrators.',
           '/v2.1/os-migrations'),
    _action('os-pause-server', 'PauseServer',
            'Pausing and unpausing a server.', 'pause'),
    _route('os-quota-sets', 'Quotas',
           'Quotas of a project.', '/v2.1/os-quota-sets/{project_id}'),
    _action('os-rescue', 'Rescue',
            'Rescue mode of a server.', 'rescue'),
    _route('os-server-diagnostics', 'ServerDiagnostics',
           'Diagnostics of a server, for administrators.',
           _SERVER + '/diagnostics'),
    _route('os-server-groups', 'ServerGroups',
           'Server groups and their affinity policies.',
           '/v2.1/os-server-groups'),
    _route('os-server-password', 'ServerPassword',
           'The encrypted password a server left.',
           _SERVER + '/os-server-password'),
    _action('os-server-start-stop', 'ServerStartStop',
            'Starting and stopping a server.', 'os-start'),
    _route('os-services', 'Services',
           'Services and their state, for administrators.',
           '/v2.1/os-services'),
    _action('os-shelve', 'Shelve',
            'Shelving and unshelving a server.', 'shelve'),
    _route('os-simple-tenant-usage', 'SimpleTenantUsage',
           'What the servers of a project used over a window.',
           '/v2.1/os-simple-tenant-usage'),
    _action('os-suspend-server', 'SuspendServer',
            'Suspending and resuming a server.', 'suspend'),
)

_BY_ALIAS = {extension.alias: extension for extension in EXTENSIONS}


def view(extension):
    """The body of one extension, as Nova writes it."""
    return {'name': extension.name, 'alias': extension.alias,
            'description': extension.description, 'namespace': NAMESPACE,
            'updated': UPDATED, 'links': []}


def index(req):
    """GET /extensions (200; 403)."""
    req.authorize(rules.EXTENSIONS)
    return api_request.json_response({'extensions': [
        view(_BY_ALIAS[alias]) for alias in sorted(_BY_ALIAS)]})


def show(req, alias):
    """GET /extensions/{alias} (200; 403, 404)."""
    req.authorize(rules.EXTENSIONS)
    extension = _BY_ALIAS.get(alias)
    if extension is None:
        raise exception.NotFound('The resource could not be found.')
    return api_request.json_response({'extension': view(extension)})


def register(router):
    router.add('GET', '/v2.1/extensions', index)
    router.add('GET', '/v2.1/extensions/{alias}', show)
