"""``orchestrator server create|list|show|delete``.

The other server verbs (stop, resize, live-migrate, ...) are in
:mod:`orchestrator.cli.server_actions`.
"""

import argparse
import base64

from orchestrator.cli import exits
from orchestrator.cli import output
from orchestrator.cli import waiting
from orchestrator.cli import waits

POWER_STATES = {0: 'NOSTATE', 1: 'Running', 3: 'Paused', 4: 'Shutdown',
                6: 'Crashed', 7: 'Suspended'}
LIST_COLUMNS = (('ID', 'id'), ('Name', 'name'), ('Status', 'status'),
                ('Task State', 'task_state'), ('Power', 'power_state'),
                ('Host', 'host'), ('Flavor', 'flavor'),
                ('Progress', 'progress'))


def key_value(text):
    """argparse type of ``KEY=VALUE``: a (key, value) pair."""
    key, sep, value = text.partition('=')
    if not sep or not key:
        raise argparse.ArgumentTypeError('expected KEY=VALUE, got %r'
                                         % text)
    return key, value


def summary(server):
    """A server as one list row."""
    return {
        'id': server['id'], 'name': server['name'],
        'status': server['status'],
        'task_state': server.get('OS-EXT-STS:task_state'),
        'power_state': POWER_STATES.get(
            server.get('OS-EXT-STS:power_state'),
            server.get('OS-EXT-STS:power_state')),
        'host': server.get('OS-EXT-SRV-ATTR:host'),
        'flavor': (server.get('flavor') or {}).get('original_name'),
        'progress': server.get('progress'),
    }


def create_body(api, args):
    """The POST /servers body of ``server create``'s arguments."""
    server = {'name': args.name,
              'flavorRef': api.find_flavor(args.flavor)['id'],
              'imageRef': api.find_image(args.image)['id'],
              'networks': 'none' if args.no_network else 'auto'}
    if args.key_name:
        server['key_name'] = args.key_name
    if args.availability_zone:
        server['availability_zone'] = args.availability_zone
    if args.user_data:
        try:
            with open(args.user_data, 'rb') as f:
                server['user_data'] = base64.b64encode(f.read()).decode()
        except OSError as e:
            raise exits.Refused('--user-data: %s' % e) from None
    if args.property:
        server['metadata'] = dict(args.property)
    if args.tag:
        server['tags'] = list(args.tag)
    if args.description is not None:
        server['description'] = args.description
    if args.min is not None or args.max is not None:
        server['min_count'] = args.min or 1
        server['max_count'] = args.max or server['min_count']
        server['return_reservation_id'] = server['max_count'] > 1
    body = {'server': server}
    if args.hint:
        hints = {}
        for key, value in args.hint:
            hints.setdefault(key, []).append(value)
        body['os:scheduler_hints'] = {
            k: v[0] if len(v) == 1 else v for k, v in hints.items()}
    return body


def cmd_create(api, args, out):
    resp = api.compute('POST', '/servers', json=create_body(api, args))
    if 'reservation_id' in resp.body:
        created = api.get('/servers/detail', params={
            'reservation_id': resp.body['reservation_id']})['servers']
    else:
        created = [resp.body['server']]
    code = exits.OK
    if args.wait:
        for server in created:
            code = max(code, waits.wait(api, args, waiting.Operation(
                server['id'], resp.request_id, 'create',
                expect=('ACTIVE',),
                server_name=server.get('name') or args.name), out))
        return code
    if len(created) == 1:
        server = created[0]
        shown = {k: server.get(k) for k in ('id', 'name', 'status')
                 if server.get(k) is not None}
        shown['name'] = shown.get('name') or args.name
        if server.get('adminPass'):
            shown['adminPass'] = server['adminPass']
        shown['request_id'] = resp.request_id
        output.key_values(out, shown, args.format)
    else:
        output.table(out, LIST_COLUMNS, [summary(s) for s in created],
                     args.format)
    return code


def cmd_list(api, args, out):
    params = {'status': args.status, 'host': args.host,
              'name': args.name, 'limit': args.limit,
              'all_tenants': 1 if args.all_projects else None}
    servers = api.get('/servers/detail', params={
        k: v for k, v in params.items() if v is not None})['servers']
    output.table(out, LIST_COLUMNS, [summary(s) for s in servers],
                 args.format)
    return exits.OK


def cmd_show(api, args, out):
    output.key_values(out, api.find_server(args.server), args.format)
    return exits.OK


def cmd_delete(api, args, out):
    server = api.find_server(args.server)
    if args.force:
        resp = api.compute('POST', '/servers/%s/action' % server['id'],
                           json={'forceDelete': None})
    else:
        resp = api.compute('DELETE', '/servers/%s' % server['id'])
    op = waiting.Operation(server['id'], resp.request_id,
                           'force delete' if args.force else 'delete',
                           deleting=True, server_name=server['name'])
    return waits.accepted(api, args, op, out)


def register(subparsers):
    """Add create, list, show and delete to ``orchestrator server``."""
    p = subparsers.add_parser('create', help='boot a server (or several)')
    p.add_argument('name')
    p.add_argument('--flavor', required=True, help='flavor name or id')
    p.add_argument('--image', required=True, help='image name or id')
    p.add_argument('--key-name', help='key pair to inject')
    p.add_argument('--availability-zone', metavar='ZONE')
    p.add_argument('--user-data', metavar='FILE',
                   help='file given to the guest as user data')
    p.add_argument('--property', type=key_value, action='append',
                   metavar='KEY=VALUE', help='metadata (repeat)')
    p.add_argument('--tag', action='append', help='tag (repeat)')
    p.add_argument('--hint', type=key_value, action='append',
                   metavar='KEY=VALUE',
                   help='scheduler hint, e.g. group=SERVER_GROUP_ID '
                        '(repeat)')
    p.add_argument('--description')
    p.add_argument('--min', type=int, metavar='N',
                   help='boot at least N servers')
    p.add_argument('--max', type=int, metavar='N',
                   help='boot at most N servers')
    p.add_argument('--no-network', action='store_true',
                   help='no network (networks "none"; default "auto")')
    waits.add_arguments(p)
    output.add_format_argument(p)
    p.set_defaults(func=cmd_create)

    p = subparsers.add_parser('list', help='list servers')
    p.add_argument('--status', help='only servers with this status')
    p.add_argument('--host', help='only servers on this host (admin)')
    p.add_argument('--name', help='only names matching this regular '
                                  'expression')
    p.add_argument('--all-projects', action='store_true',
                   help='every project\'s servers (admin)')
    p.add_argument('--limit', type=int, help='at most this many')
    output.add_format_argument(p)
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser('show', help='show a server')
    p.add_argument('server', help='name or id')
    output.add_format_argument(p)
    p.set_defaults(func=cmd_show)

    p = subparsers.add_parser('delete', help='delete a server')
    p.add_argument('server', help='name or id')
    p.add_argument('--force', action='store_true',
                   help='force delete: at once, whatever runs on it')
    waits.add_arguments(p)
    output.add_format_argument(p)
    p.set_defaults(func=cmd_delete)
