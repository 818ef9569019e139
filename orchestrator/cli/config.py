"""Where the API is and who calls it.

Two sources, chosen in this order:

1. ``--url`` (the API's root, e.g. ``http://127.0.0.1:8774``): the
   ``ORCHESTRATOR_*`` environment gives the credentials: a Keystone token
   in ``ORCHESTRATOR_TOKEN``, or ``ORCHESTRATOR_USER`` and
   ``ORCHESTRATOR_PASSWORD`` (http_basic); neither for noauth.
2. ``--os-cloud`` (or ``OS_CLOUD`` when no ``--url`` and no
   ``ORCHESTRATOR_URL``): the cloud of the clouds.yaml openstackclient
   reads, loaded by openstacksdk's config loader; its keystoneauth session
   authenticates (``auth_type`` none, http_basic, password, token, ...)
   and the compute endpoint is ``compute_endpoint_override`` or the
   catalog's.
3. Else ``ORCHESTRATOR_URL`` with the environment's credentials, or
   ``http://127.0.0.1:8774``.

:func:`connect` returns :class:`Endpoints`: one keystoneauth session and
the URLs of the Compute API, the image API and the console API.
"""

import dataclasses
import os
import warnings

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import http_basic
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint

from orchestrator.cli import exits

DEFAULT_URL = 'http://127.0.0.1:8774'
COMPUTE_PATH = '/v2.1'


@dataclasses.dataclass
class Endpoints:
    """A session that authenticates every request, and where to send
    them (URLs without a trailing slash)."""

    session: ks_session.Session
    root: str
    compute: str
    image: str

    @property
    def console(self):
        return self.root + '/console/api'


def add_arguments(parser):
    """The connection options of the top-level parser."""
    group = parser.add_argument_group('connection')
    group.add_argument(
        '--url', default=None,
        help='API root (default: $ORCHESTRATOR_URL, or the cloud of '
             '--os-cloud, or %s); credentials from ORCHESTRATOR_TOKEN, or '
             'ORCHESTRATOR_USER and ORCHESTRATOR_PASSWORD' % DEFAULT_URL)
    group.add_argument(
        '--os-cloud', default=None, metavar='CLOUD',
        help='a cloud of clouds.yaml, as openstackclient (default: '
             '$OS_CLOUD when no URL is given)')
    group.add_argument(
        '--http-timeout', type=float, default=30.0, metavar='SECONDS',
        help='timeout of one HTTP request (default 30)')


def _split_compute(endpoint):
    """(root, compute URL) of a compute endpoint: the root is what comes
    before ``/v2.1`` (an endpoint without it is the root itself)."""
    endpoint = endpoint.rstrip('/')
    head, sep, _tail = endpoint.partition(COMPUTE_PATH)
    if sep:
        return head, endpoint
    return endpoint, endpoint + COMPUTE_PATH


def from_environment(url, timeout, environ=None):
    """Endpoints for ``url`` with the ORCHESTRATOR_* credentials."""
    environ = os.environ if environ is None else environ
    root, compute = _split_compute(url)
    if environ.get('ORCHESTRATOR_USER'):
        auth = http_basic.HTTPBasicAuth(
            endpoint=compute, username=environ['ORCHESTRATOR_USER'],
            password=environ.get('ORCHESTRATOR_PASSWORD', ''))
    elif environ.get('ORCHESTRATOR_TOKEN'):
        auth = token_endpoint.Token(compute, environ['ORCHESTRATOR_TOKEN'])
    else:
        auth = noauth.NoAuth(endpoint=compute)
    session = ks_session.Session(auth=auth, timeout=timeout)
    return Endpoints(session, root, compute, root + '/image')


def from_cloud(name, timeout):
    """Endpoints of the cloud ``name`` of clouds.yaml (openstacksdk's
    loader, as openstackclient). :class:`exits.Refused` when the cloud
    is unknown or says no compute endpoint; :class:`exits.Unreachable`
    when Keystone cannot be reached or refuses the credentials while the
    catalog is read (without a catalog that happens at the first
    request)."""
    # Imported here: openstacksdk is heavy and most runs give a URL.
    from openstack import config as os_config
    from openstack import exceptions as os_exceptions
    try:
        with warnings.catch_warnings():
            # openstacksdk warns about its own optional metrics plugins.
            warnings.simplefilter('ignore')
            region = os_config.OpenStackConfig().get_one(cloud=name)
            session = region.get_session()
    except (os_exceptions.ConfigException, KeyError) as e:
        raise exits.Refused('cloud %r: %s' % (name, e)) from None
    session.timeout = timeout
    try:
        # With a catalog, this authenticates (the first request to
        # Keystone).
        compute = region.get_session_endpoint('compute')
    except ks_exceptions.ClientException as e:
        raise exits.Unreachable('cannot reach or authenticate to %s: %s' % (
            (region.config.get('auth') or {}).get('auth_url') or name,
            ' '.join(str(e).split()))) from None
    if not compute:
        raise exits.Refused('cloud %r: no compute endpoint (set '
                            'compute_endpoint_override)' % name)
    root, compute = _split_compute(compute)
    image = region.get_endpoint('image') or root + '/image'
    return Endpoints(session, root, compute, image.rstrip('/'))


def connect(args, environ=None):
    """Endpoints as the command line and the environment say (the
    order is the module's)."""
    environ = os.environ if environ is None else environ
    if args.url:
        return from_environment(args.url, args.http_timeout, environ)
    if args.os_cloud:
        return from_cloud(args.os_cloud, args.http_timeout)
    if environ.get('ORCHESTRATOR_URL'):
        return from_environment(environ['ORCHESTRATOR_URL'],
                                args.http_timeout, environ)
    if environ.get('OS_CLOUD'):
        return from_cloud(environ['OS_CLOUD'], args.http_timeout)
    return from_environment(DEFAULT_URL, args.http_timeout, environ)
