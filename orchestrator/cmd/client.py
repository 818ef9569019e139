"""orchestrator: a small user CLI over the HTTP API.

    orchestrator server create NAME --flavor m1.small --image cirros-0.6.2
                               [--wait]
    orchestrator server list
    orchestrator server show NAME_OR_ID
    orchestrator server delete NAME_OR_ID [--force] [--wait]

The endpoint comes from ``--url`` or ``ORCHESTRATOR_URL`` (default
``http://127.0.0.1:8774``). Credentials: a Keystone token in
``ORCHESTRATOR_TOKEN`` (``[api] auth_strategy = keystone``), or a user
and password in ``ORCHESTRATOR_USER`` and ``ORCHESTRATOR_PASSWORD``
(``http_basic``); noauth needs neither. ``--wait`` polls the server and
shows a live line with its status, task state and progress until the
operation ends; the exit status is 0 when it ended as asked, 1
otherwise.
"""

import argparse
import os
import sys
import time

import requests

DEFAULT_URL = 'http://127.0.0.1:8774'
MICROVERSION = '2.47'
FINAL_BUILD_STATUSES = ('ACTIVE', 'ERROR')


class ClientError(Exception):
    """The API refused a request; the message is the API's."""


class Api:
    """Just enough of the Compute API for the CLI."""

    def __init__(self, url, timeout=30.0):
        self.url = url.rstrip('/')
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers.update({
            'OpenStack-API-Version': 'compute %s' % MICROVERSION,
            'X-Auth-Token': os.environ.get('ORCHESTRATOR_TOKEN', 'none'),
            'Accept': 'application/json'})
        if os.environ.get('ORCHESTRATOR_USER'):
            self.http.auth = (os.environ['ORCHESTRATOR_USER'],
                              os.environ.get('ORCHESTRATOR_PASSWORD', ''))

    def request(self, method, path, **kwargs):
        resp = self.http.request(method, self.url + path,
                                 timeout=self.timeout, **kwargs)
        if resp.status_code >= 400:
            raise ClientError(_error_message(resp))
        return resp.json() if resp.content else None

    def find(self, collection, key, name_or_id):
        """The item whose id or name is ``name_or_id`` (ids first)."""
        try:
            return self.request('GET', '/v2.1/%s/%s' % (collection,
                                                        name_or_id))[key]
        except ClientError:
            pass
        items = self.request('GET', '/v2.1/%s/detail' % collection)
        matches = [i for i in items[collection]
                   if i.get('name') == name_or_id]
        if len(matches) != 1:
            raise ClientError('%s %r: %s' % (
                key, name_or_id,
                'not found' if not matches else 'more than one match'))
        return matches[0]

    def find_image(self, name_or_id):
        try:
            return self.request('GET', '/image/v2/images/%s' % name_or_id)
        except ClientError:
            pass
        images = self.request('GET', '/image/v2/images',
                              params={'name': name_or_id})['images']
        if len(images) != 1:
            raise ClientError('image %r: %s' % (
                name_or_id, 'not found' if not images else 'ambiguous'))
        return images[0]


def _error_message(resp):
    try:
        body = resp.json()
        (inner,) = body.values()
        return '%s (HTTP %s)' % (inner['message'], resp.status_code)
    except Exception:  # noqa: BLE001 - any other body: show it as it is
        return 'HTTP %s: %s' % (resp.status_code, resp.text[:200])


def _line(server):
    return '%-36s %-16s %-13s %-22s %3s%%' % (
        server['id'], server['name'][:16], server['status'],
        server.get('OS-EXT-STS:task_state') or '-',
        server.get('progress', 0) or 0)


def _wait(api, server_id, until_gone, out, interval=0.5, timeout=600):
    """Poll and redraw one status line; returns the exit status."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            server = api.request('GET', '/v2.1/servers/%s' % server_id)[
                'server']
        except ClientError:
            if until_gone:
                out.write('\rdeleted%s\n' % (' ' * 70))
                return 0
            raise
        line = _line(server)
        if line != last:
            out.write('\r' + line)
            out.flush()
            last = line
        if not until_gone and server['status'] in FINAL_BUILD_STATUSES:
            out.write('\n')
            if server['status'] == 'ERROR':
                fault = server.get('fault', {}).get('message', '')
                out.write('error: %s\n' % fault)
                return 1
            return 0
        if until_gone and server['status'] == 'ERROR':
            out.write('\nerror: delete failed\n')
            return 1
        time.sleep(interval)
    out.write('\ntimed out waiting for %s\n' % server_id)
    return 1


def cmd_create(api, args, out):
    flavor = api.find('flavors', 'flavor', args.flavor)
    image = api.find_image(args.image)
    body = {'server': {'name': args.name, 'flavorRef': flavor['id'],
                       'imageRef': image['id'], 'networks': 'auto'}}
    server = api.request('POST', '/v2.1/servers', json=body)['server']
    out.write('%s\n' % server['id'])
    if args.wait:
        return _wait(api, server['id'], False, out)
    return 0


def cmd_list(api, args, out):
    servers = api.request('GET', '/v2.1/servers/detail')['servers']
    out.write('%-36s %-16s %-13s %-22s %4s\n' % (
        'ID', 'NAME', 'STATUS', 'TASK STATE', 'PROG'))
    for server in servers:
        out.write(_line(server) + '\n')
    return 0


def cmd_show(api, args, out):
    server = api.find('servers', 'server', args.server)
    for key in sorted(server):
        out.write('%-40s %s\n' % (key, server[key]))
    return 0


def cmd_delete(api, args, out):
    server = api.find('servers', 'server', args.server)
    if args.force:
        api.request('POST', '/v2.1/servers/%s/action' % server['id'],
                    json={'forceDelete': None})
    else:
        api.request('DELETE', '/v2.1/servers/%s' % server['id'])
    if args.wait:
        return _wait(api, server['id'], True, out)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog='orchestrator',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--url', default=os.environ.get(
        'ORCHESTRATOR_URL', DEFAULT_URL), help='API endpoint')
    top = parser.add_subparsers(dest='resource', required=True)
    server = top.add_parser('server', help='servers').add_subparsers(
        dest='command', required=True)
    p = server.add_parser('create', help='boot a server')
    p.add_argument('name')
    p.add_argument('--flavor', required=True, help='flavor name or id')
    p.add_argument('--image', required=True, help='image name or id')
    p.add_argument('--wait', action='store_true')
    p.set_defaults(func=cmd_create)
    p = server.add_parser('list', help='list servers')
    p.set_defaults(func=cmd_list)
    p = server.add_parser('show', help='show a server')
    p.add_argument('server', help='name or id')
    p.set_defaults(func=cmd_show)
    p = server.add_parser('delete', help='delete a server')
    p.add_argument('server', help='name or id')
    p.add_argument('--force', action='store_true',
                   help='force delete: at once, whatever runs on it')
    p.add_argument('--wait', action='store_true')
    p.set_defaults(func=cmd_delete)
    return parser


def main(argv=None, out=None):
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    api = Api(args.url)
    try:
        return args.func(api, args, out)
    except (ClientError, requests.RequestException) as e:
        sys.stderr.write('error: %s\n' % e)
        return 1


if __name__ == '__main__':
    sys.exit(main())
