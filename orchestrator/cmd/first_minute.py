"""What the all-in-one tells its operator in the first minute: where the
API and the web console are, the clouds.yaml to use and the first
commands to try.

One source for that text: :func:`guide` is what ``orchestrator-allinone``
prints once it serves (with its real address and state dir), what
``orchestrator-allinone --help`` ends with and what the README shows
(both for the defaults: :func:`default_guide`; a test keeps the README's
copy equal to it).

The clouds.yaml (:func:`clouds_yaml`, written by
:func:`write_clouds_yaml` into the state dir, mode 0600) names one cloud,
``orchestrator``, in the shape the README documents: ``auth_type: none``
under noauth, ``http_basic`` with a user name and never a password under
http_basic. Under keystone none is written: the operator's Keystone
cloud is the one to use.
"""

import ipaddress
import os

from orchestrator import file_modes

CLOUD_NAME = 'orchestrator'
CLOUDS_FILE = 'clouds.yaml'
#: Where the API serves the web console, below its base URL.
CONSOLE_PATH = '/console/'
#: Strategies whose clouds.yaml the all-in-one writes.
WRITTEN_FOR = ('noauth', 'http_basic')
#: The user name written when the user file names nobody.
USER_PLACEHOLDER = 'USER'

_WILDCARDS = {'0.0.0.0': '127.0.0.1', '::': '::1', '': '127.0.0.1'}


def base_url(listen_host, listen_port, public_endpoint=None):
    """The URL clients reach the API at: ``[api] public_endpoint`` when
    set, else ``http://HOST:PORT`` with a wildcard address (``0.0.0.0``,
    ``::``) replaced by loopback's and an IPv6 address bracketed. No
    trailing slash."""
    if public_endpoint:
        return public_endpoint.rstrip('/')
    host = _WILDCARDS.get(listen_host, listen_host)
    try:
        if ipaddress.ip_address(host).version == 6:
            host = '[%s]' % host
    except ValueError:
        pass  # a host name
    return 'http://%s:%d' % (host, listen_port)


def clouds_yaml(base, auth_strategy, username=None):
    """The text of a clouds.yaml whose cloud ``orchestrator`` reaches the
    API at ``base``; None under a strategy not in :data:`WRITTEN_FOR`.
    Under http_basic it names ``username`` and holds no password (the
    client asks for it, or reads ``OS_PASSWORD``)."""
    if auth_strategy not in WRITTEN_FOR:
        return None
    lines = ['clouds:', '  %s:' % CLOUD_NAME]
    if auth_strategy == 'noauth':
        lines += ['    auth_type: none', '    auth:']
    else:
        lines += ['    auth_type: http_basic', '    auth:',
                  '      username: %s' % (username or USER_PLACEHOLDER)]
    lines += ['      endpoint: %s/v2.1' % base,
              '    identity_api_version: 3',
              '    compute_endpoint_override: %s/v2.1' % base,
              '    image_endpoint_override: %s/image' % base]
    if auth_strategy == 'http_basic':
        lines.append('    identity_endpoint_override: %s/identity' % base)
    return '\n'.join(lines) + '\n'


def write_clouds_yaml(state_dir, text):
    """Write ``text`` to ``STATE_DIR/clouds.yaml`` (mode 0600, replaced
    on every start); returns the path."""
    path = os.path.join(state_dir, CLOUDS_FILE)
    with file_modes.open_private(path) as f:
        f.write(text)
    return path


def guide(base, clouds_path, auth_strategy):
    """The lines an operator reads first (no trailing newline).

    :param base: the API's base URL (:func:`base_url`).
    :param clouds_path: the clouds.yaml written, as it should be shown.
    :param auth_strategy: ``[api] auth_strategy``.
    """
    if auth_strategy in WRITTEN_FOR:
        clouds = '%s (cloud %s, %s)' % (clouds_path, CLOUD_NAME,
                                        'no authentication'
                                        if auth_strategy == 'noauth'
                                        else 'http_basic, no password')
    else:
        clouds = ('none written (auth_strategy %s: use your Keystone '
                  'cloud)' % auth_strategy)
    lines = ['  API          %s/v2.1' % base,
             '  Web console  %s%s' % (base, CONSOLE_PATH),
             '  clouds.yaml  %s' % clouds,
             '',
             'First commands (in another terminal):',
             '']
    if auth_strategy in WRITTEN_FOR:
        lines.append('  export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=%s'
                     % (clouds_path, CLOUD_NAME))
    if auth_strategy == 'http_basic':
        lines.append("  read -rsp 'Password: ' OS_PASSWORD && "
                     "export OS_PASSWORD")
    lines += ['  openstack server create --flavor m1.tiny '
              '--image cirros-0.6.2 --wait vm1',
              '  orchestrator server create vm2 --flavor m1.tiny '
              '--image cirros-0.6.2 --wait',
              '  orchestrator flow list',
              '',
              'Stop with Ctrl-C; a new start on the same state dir resumes '
              'every operation in flight.']
    return '\n'.join(lines)


def default_guide():
    """:func:`guide` for ``orchestrator-allinone`` with no option (the
    text of ``--help`` and of the README)."""
    return guide(base_url('127.0.0.1', 8774),
                 os.path.join('./state', CLOUDS_FILE), 'noauth')


def first_username(users):
    """The user name a clouds.yaml names under http_basic: the first
    administrator of the user file (``{name: User}`` in file order),
    else its first user, else None."""
    for user in users.values():
        if 'admin' in user.roles:
            return user.name
    return next(iter(users), None)
