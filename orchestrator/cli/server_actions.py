"""``orchestrator server VERB SERVER``: every server action of the API.

Each verb is a :class:`Verb`: its help, its own arguments, the request it
makes and the statuses that mean "done as asked" (used by ``--wait``
when the console cannot show the action's flow). Every verb takes
``--wait``, ``--timeout`` and ``-f``.
"""

import argparse
import base64
import dataclasses
import sys
import typing

from orchestrator.cli import exits
from orchestrator.cli import output
from orchestrator.cli import servers
from orchestrator.cli import waiting
from orchestrator.cli import waits


def _password_stdin(args):
    """The password read from stdin (first line), or None."""
    if not getattr(args, 'password_stdin', False):
        return None
    password = sys.stdin.readline().rstrip('\r\n')
    if not password:
        raise exits.Refused('--password-stdin: no password on stdin')
    return password


def _user_data(path):
    try:
        with open(path, 'rb') as f:
            return base64.b64encode(f.read()).decode()
    except OSError as e:
        raise exits.Refused('--user-data: %s' % e) from None


def _simple(key):
    return lambda api, args, server: {key: None}


def _reboot(api, args, server):
    return {'reboot': {'type': 'HARD' if args.hard else 'SOFT'}}


def _rescue(api, args, server):
    value = {}
    if args.image:
        value['rescue_image_ref'] = api.find_image(args.image)['id']
    password = _password_stdin(args)
    if password:
        value['adminPass'] = password
    return {'rescue': value or None}


def _rebuild(api, args, server):
    image = args.image or (server.get('image') or {}).get('id')
    if not image:
        raise exits.Refused('the server has no image: give --image')
    value = {'imageRef': api.find_image(image)['id']}
    if args.name:
        value['name'] = args.name
    if args.key_name:
        value['key_name'] = args.key_name
    if args.user_data:
        value['user_data'] = _user_data(args.user_data)
    password = _password_stdin(args)
    if password:
        value['adminPass'] = password
    return {'rebuild': value}


def _snapshot(api, args, server):
    value = {'name': args.image_name}
    if args.property:
        value['metadata'] = dict(args.property)
    return {'createImage': value}


def _backup(api, args, server):
    return {'createBackup': {'name': args.image_name,
                             'backup_type': args.type,
                             'rotation': args.rotation}}


def _resize(api, args, server):
    return {'resize': {'flavorRef': api.find_flavor(args.flavor)['id']}}


def _migrate(api, args, server):
    return {'migrate': {'host': args.host} if args.host else None}


def _live_migrate(api, args, server):
    return {'os-migrateLive': {
        'host': args.host,
        'block_migration': True if args.block_migration else 'auto'}}


def _evacuate(api, args, server):
    value = {}
    if args.host:
        value['host'] = args.host
    password = _password_stdin(args)
    if password:
        value['adminPass'] = password
    return {'evacuate': value}


def _shelve(api, args, server):
    return {'shelve': None}


def _unshelve(api, args, server):
    if args.availability_zone:
        return {'unshelve': {'availability_zone': args.availability_zone}}
    return {'unshelve': None}


def _lock(api, args, server):
    return {'lock': {'locked_reason': args.reason} if args.reason
            else None}


def _password_argument(p, what):
    p.add_argument('--password-stdin', action='store_true',
                   help='read the %s password from stdin (else the API '
                        'makes one up)' % what)


def _image_arguments(p):
    p.add_argument('image_name', metavar='IMAGE_NAME',
                   help='name of the new image')


@dataclasses.dataclass(frozen=True)
class Verb:
    name: str
    help: str
    body: typing.Callable
    expect: tuple = ()
    arguments: typing.Callable = None


def _rescue_args(p):
    p.add_argument('--image', help='rescue image (default: the server\'s)')
    _password_argument(p, 'rescue')


def _rebuild_args(p):
    p.add_argument('--image', help='image (default: the server\'s)')
    p.add_argument('--name', help='new name')
    p.add_argument('--key-name', help='new key pair')
    p.add_argument('--user-data', metavar='FILE', help='new user data')
    _password_argument(p, 'administrator')


def _snapshot_args(p):
    _image_arguments(p)
    p.add_argument('--property', type=servers.key_value, action='append',
                   metavar='KEY=VALUE', help='image metadata (repeat)')


def _backup_args(p):
    _image_arguments(p)
    p.add_argument('--type', default='daily',
                   help='backup type (default daily)')
    p.add_argument('--rotation', type=int, default=1,
                   help='backups of this type to keep (default 1)')


def _host_arg(p):
    p.add_argument('--host', help='destination host (default: the '
                                  'scheduler\'s choice)')


def _live_args(p):
    _host_arg(p)
    p.add_argument('--block-migration', action='store_true',
                   help='copy the disks too (default: auto)')


def _evacuate_args(p):
    _host_arg(p)
    _password_argument(p, 'administrator')


VERBS = (
    Verb('stop', 'power the guest off', _simple('os-stop'), ('SHUTOFF',)),
    Verb('start', 'power the guest on', _simple('os-start'), ('ACTIVE',)),
    Verb('reboot', 'reboot the guest (soft, or --hard)', _reboot,
         ('ACTIVE',), lambda p: p.add_argument(
             '--hard', action='store_true', help='power cycle')),
    Verb('pause', 'pause the guest in memory', _simple('pause'),
         ('PAUSED',)),
    Verb('unpause', 'unpause the guest', _simple('unpause'), ('ACTIVE',)),
    Verb('suspend', 'suspend the guest to disk', _simple('suspend'),
         ('SUSPENDED',)),
    Verb('resume', 'resume a suspended guest', _simple('resume'),
         ('ACTIVE',)),
    Verb('rescue', 'boot the guest from a rescue image', _rescue,
         ('RESCUE',), _rescue_args),
    Verb('unrescue', 'boot the guest from its own disk again',
         _simple('unrescue'), ('ACTIVE',)),
    Verb('rebuild', 're-image the guest', _rebuild, ('ACTIVE', 'SHUTOFF'),
         _rebuild_args),
    Verb('snapshot', 'make an image of the server\'s disk (createImage)',
         _snapshot, (), _snapshot_args),
    Verb('backup', 'a snapshot kept in a rotation (createBackup)',
         _backup, (), _backup_args),
    Verb('resize', 'move to another flavor (then resize-confirm or '
         'resize-revert)', _resize, ('VERIFY_RESIZE',),
         lambda p: p.add_argument('--flavor', required=True,
                                  help='new flavor name or id')),
    Verb('resize-confirm', 'confirm a resize or migration',
         _simple('confirmResize'), ('ACTIVE', 'SHUTOFF')),
    Verb('resize-revert', 'revert a resize or migration',
         _simple('revertResize'), ('ACTIVE', 'SHUTOFF')),
    Verb('migrate', 'cold-migrate to another host (admin; then '
         'resize-confirm)', _migrate, ('VERIFY_RESIZE',), _host_arg),
    Verb('live-migrate', 'move the running guest to another host (admin)',
         _live_migrate, ('ACTIVE', 'PAUSED'), _live_args),
    Verb('evacuate', 'rebuild on another host a server whose host is '
         'down (admin)', _evacuate, ('ACTIVE', 'SHUTOFF'), _evacuate_args),
    Verb('shelve', 'shelve (snapshot and free the host)', _shelve,
         ('SHELVED', 'SHELVED_OFFLOADED')),
    Verb('unshelve', 'unshelve onto a host', _unshelve, ('ACTIVE',),
         lambda p: p.add_argument('--availability-zone', metavar='ZONE')),
    Verb('lock', 'lock against other users\' actions', _lock, (),
         lambda p: p.add_argument('--reason')),
    Verb('unlock', 'unlock', _simple('unlock')),
)


def _extra(verb, resp, args):
    """What the response tells beyond "accepted": a generated password,
    a new image's id."""
    body = resp.body or {}
    extra = {}
    if body.get('adminPass') and not getattr(args, 'password_stdin',
                                             False):
        extra['adminPass'] = body['adminPass']
    if body.get('image_id'):
        extra['image_id'] = body['image_id']
    return extra


def run_verb(verb, api, args, out):
    server = api.find_server(args.server)
    resp = api.compute('POST', '/servers/%s/action' % server['id'],
                       json=verb.body(api, args, server))
    op = waiting.Operation(server['id'], resp.request_id, verb.name,
                           expect=verb.expect, server_name=server['name'])
    extra = _extra(verb, resp, args)
    if extra and args.wait and args.format != output.JSON:
        for key in sorted(extra):
            out.write('%s: %s\n' % (key, extra[key]))
    return waits.accepted(api, args, op, out, extra)


def cmd_live_migrate_abort(api, args, out):
    server = api.find_server(args.server)
    migration_id = args.migration
    if migration_id is None:
        running = api.get('/servers/%s/migrations' % server['id'])[
            'migrations']
        if not running:
            raise exits.Refused('server %s has no live migration in '
                                'progress' % server['id'])
        migration_id = max(running, key=lambda m: m['id'])['id']
    resp = api.compute('DELETE', '/servers/%s/migrations/%s'
                       % (server['id'], migration_id))
    op = waiting.Operation(server['id'], resp.request_id,
                           'live-migrate abort', expect=('ACTIVE', 'PAUSED'),
                           server_name=server['name'])
    return waits.accepted(api, args, op, out, {'migration': migration_id})


def _common(p):
    p.add_argument('server', help='name or id')
    waits.add_arguments(p)
    output.add_format_argument(p)


def register(subparsers):
    """Add every verb of :data:`VERBS` and live-migrate-abort."""
    for verb in VERBS:
        p = subparsers.add_parser(verb.name, help=verb.help,
                                  description=verb.help)
        _common(p)
        if verb.arguments is not None:
            verb.arguments(p)
        p.set_defaults(func=lambda api, args, out, verb=verb: run_verb(
            verb, api, args, out))
    p = subparsers.add_parser(
        'live-migrate-abort', help='abort a live migration in progress',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _common(p)
    p.add_argument('--migration', type=int,
                   help='migration id (default: the one in progress)')
    p.set_defaults(func=cmd_live_migrate_abort)
