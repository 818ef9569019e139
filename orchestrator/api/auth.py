"""Who is calling: the strategy of ``[api] auth_strategy``.

Every strategy is a WSGI middleware that puts a
:class:`orchestrator.context.RequestContext` in the environment
(``api_request.CONTEXT_KEY``) or answers 401 itself. Whatever the
strategy, the context carries the caller's ``user_id``, ``project_id``,
``roles`` (lower case), ``system_scope`` and ``is_admin`` (what the
policy rule ``context_is_admin`` says), and never the caller's token:
the context crosses to the conductors and into flow stores, where no
secret may go.

* ``noauth`` (development only): every caller, with a token or none, is
  an administrator of ``[api] default_project_id`` as ``[api]
  default_user_id``. :func:`check_start` refuses it on an address beyond
  loopback unless ``[api] allow_noauth_beyond_loopback`` is set, and
  warns on every start.
* ``keystone``: keystonemiddleware's ``auth_token`` (options in
  ``[keystone_authtoken]``) checks the ``X-Auth-Token`` with Keystone and
  sets the identity headers (having removed any the client sent); the
  context is built from them. Its 401 becomes a Nova-style fault with
  its ``WWW-Authenticate: Keystone uri=...`` header.
* ``http_basic``: users from a file (:mod:`orchestrator.api.auth_basic`).

The version documents (``/``, ``/v2.1``, ``/v2``, and those of the
``/image`` and ``/identity`` stand-ins) are public in every strategy, as
Nova's and Glance's: clients discover versions before they authenticate.
So is the console's sign-in (``POST /console/api/login``: the
credentials are in its body). The console's session (``GET
/console/api/session``) answers anyone: credentials sent with it are
checked as on any route, and a caller without valid ones is anonymous
there rather than refused (:func:`auth_optional`).
So are the web console's page and static files (``/console/``,
``/console/static/...``), which hold no data.
"""

import ipaddress
import logging
import socket

import webob.dec

from oslo_context import context as oslo_context

from orchestrator import context as orch_context
from orchestrator import policy
from orchestrator.api import errors
from orchestrator.api import request as api_request

LOG = logging.getLogger(__name__)

REQUEST_ID_KEY = 'openstack.request_id'
GLOBAL_REQUEST_ID_KEY = 'openstack.global_request_id'

#: The roles of every caller under noauth.
NOAUTH_ROLES = ('admin', 'member', 'reader')
#: The message of every 401.
UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.'
#: Paths anyone may GET (trailing slashes aside): the version documents
#: of the compute API, of the image stand-in and of the identity one.
PUBLIC_PATHS = frozenset(['', '/v2.1', '/v2', '/image', '/image/v2',
                          '/identity', '/identity/v3'])
#: The console's data API (its 401 under http_basic: auth_basic).
CONSOLE_API_PREFIX = '/console/api/'
#: The console's session: who is signed in (see :func:`auth_optional`).
CONSOLE_SESSION_PATH = '/console/api/session'
#: The console's sign-in: anyone may POST credentials to it.
CONSOLE_LOGIN_PATH = '/console/api/login'
#: The web console's page and its static files (no data in them:
#: :mod:`orchestrator.console.assets`): public to GET too.
PUBLIC_CONSOLE_PAGE = '/console'
PUBLIC_CONSOLE_PREFIX = '/console/static/'

#: WSGI environment keys of the headers that claim an identity: set by
#: auth_token after it checked a token, never to be believed when a
#: client sends them (prefixes; the environment spells X-User-Id
#: HTTP_X_USER_ID).
IDENTITY_HEADER_PREFIXES = (
    'HTTP_X_USER', 'HTTP_X_PROJECT', 'HTTP_X_TENANT', 'HTTP_X_DOMAIN',
    'HTTP_X_ROLE', 'HTTP_X_SERVICE_', 'HTTP_X_IDENTITY_STATUS',
    'HTTP_X_SYSTEM_SCOPE', 'HTTP_OPENSTACK_SYSTEM_SCOPE',
    'HTTP_X_IS_ADMIN_PROJECT', 'HTTP_X_AUTH_TOKEN', 'HTTP_X_STORAGE_TOKEN',
    'HTTP_X_TRUST', 'HTTP_X_APP_CRED', 'HTTP_X_APPLICATION_CREDENTIAL',
    'HTTP_X_ACCESS_RULES')


class AuthConfigError(Exception):
    """The authentication configuration cannot serve: the API must not
    start (the message is one line, for the operator)."""


def strip_identity_headers(environ):
    """Remove every header a client could use to claim an identity."""
    for key in [k for k in environ if k.startswith(IDENTITY_HEADER_PREFIXES)]:
        del environ[key]


def new_context(environ, conf, user_id, project_id, roles, **values):
    """The request context of an authenticated caller (no token kept);
    ``is_admin`` is what the policy rule ``context_is_admin`` says.

    :param roles: role names, lower-cased here.
    :param values: more RequestContext arguments (``system_scope``,
        ``user_name``, ``project_name``, domain ids).
    """
    ctxt = orch_context.RequestContext(
        user_id=user_id, project_id=project_id,
        roles=sorted({r.strip().lower() for r in roles if r.strip()}),
        request_id=(environ.get(REQUEST_ID_KEY)
                    or oslo_context.generate_request_id()),
        global_request_id=environ.get(GLOBAL_REQUEST_ID_KEY),
        is_admin=False, overwrite=False, **values)
    ctxt.is_admin = policy.sees_all_projects(conf, ctxt)
    return ctxt


def anonymous_context(environ):
    """The context of an unauthenticated caller of a public path."""
    return orch_context.RequestContext(
        user_id=None, project_id=None, roles=[], is_admin=False,
        request_id=(environ.get(REQUEST_ID_KEY)
                    or oslo_context.generate_request_id()),
        global_request_id=environ.get(GLOBAL_REQUEST_ID_KEY),
        overwrite=False)


def is_public(req):
    """True for a GET (or HEAD) of a version document or of the web
    console's page or static files, and the POST of the console's
    sign-in."""
    path = req.path_info
    if req.method in ('GET', 'HEAD'):
        return (path.rstrip('/') in (PUBLIC_PATHS | {PUBLIC_CONSOLE_PAGE})
                or path.startswith(PUBLIC_CONSOLE_PREFIX))
    return req.method == 'POST' and path.rstrip('/') == CONSOLE_LOGIN_PATH


def auth_optional(req):
    """True for the console's session: credentials are checked when
    sent, and a caller without valid ones gets the anonymous context (no
    401): the session says whether the caller is signed in."""
    return (req.method in ('GET', 'HEAD')
            and req.path_info.rstrip('/') == CONSOLE_SESSION_PATH)


def serve_anonymous(req, application):
    """``application``'s answer to ``req`` as an anonymous caller (every
    identity header removed)."""
    strip_identity_headers(req.environ)
    req.environ[api_request.CONTEXT_KEY] = anonymous_context(req.environ)
    return req.get_response(application)


def unauthorized(challenge):
    """A Nova-style 401 fault with ``WWW-Authenticate: <challenge>``."""
    return errors.fault_response(401, UNAUTHORIZED_MESSAGE,
                                 {'WWW-Authenticate': challenge})


class NoAuthMiddleware:
    """``noauth``: an admin :class:`RequestContext` for every caller."""

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf

    @webob.dec.wsgify
    def __call__(self, req):
        strip_identity_headers(req.environ)
        req.environ[api_request.CONTEXT_KEY] = new_context(
            req.environ, self.conf, self.conf.api.default_user_id,
            self.conf.api.default_project_id, NOAUTH_ROLES)
        return req.get_response(self.application)


#: Set in the environment once a request passed auth_token.
_PASSED_KEY = 'orchestrator.auth.passed'


class KeystoneMiddleware:
    """``keystone``: auth_token in front of :meth:`_with_context`.

    A response to a request auth_token stopped (no token, a bad one,
    Keystone unreachable) is made a Nova-style fault with the same code,
    keeping auth_token's ``WWW-Authenticate`` header.
    """

    def __init__(self, application, conf):
        # Imported here: the other strategies do without keystonemiddleware.
        from keystonemiddleware import auth_token

        self.application = application
        self.conf = conf
        self._auth_token = auth_token.AuthProtocol(
            self._with_context, {'oslo_config_config': conf})

    @webob.dec.wsgify
    def _with_context(self, req):
        req.environ[_PASSED_KEY] = True
        environ = req.environ
        req.environ[api_request.CONTEXT_KEY] = new_context(
            environ, self.conf, environ.get('HTTP_X_USER_ID'),
            environ.get('HTTP_X_PROJECT_ID'),
            (environ.get('HTTP_X_ROLES') or '').split(','),
            system_scope=environ.get('HTTP_OPENSTACK_SYSTEM_SCOPE'),
            domain_id=environ.get('HTTP_X_DOMAIN_ID'),
            user_name=environ.get('HTTP_X_USER_NAME'),
            project_name=environ.get('HTTP_X_PROJECT_NAME'),
            user_domain_id=environ.get('HTTP_X_USER_DOMAIN_ID'),
            project_domain_id=environ.get('HTTP_X_PROJECT_DOMAIN_ID'))
        return req.get_response(self.application)

    @webob.dec.wsgify
    def __call__(self, req):
        if is_public(req) or (auth_optional(req)
                              and not req.headers.get('X-Auth-Token')):
            return serve_anonymous(req, self.application)
        response = req.get_response(self._auth_token)
        if response.status_int >= 400 and not req.environ.get(_PASSED_KEY):
            if auth_optional(req):
                return serve_anonymous(req, self.application)
            fault = errors.fault_response(
                response.status_int,
                UNAUTHORIZED_MESSAGE if response.status_int == 401
                else _auth_token_message(response))
            for value in response.headers.getall('WWW-Authenticate'):
                fault.headers.add('WWW-Authenticate', value)
            return fault
        return response


def _auth_token_message(response):
    """The message of an error auth_token answered (JSON or text)."""
    try:
        return response.json['error']['message']
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.status


def _http_basic(application, conf):
    from orchestrator.api import auth_basic
    return auth_basic.BasicAuthMiddleware(application, conf)


STRATEGIES = {'noauth': NoAuthMiddleware,
              'keystone': KeystoneMiddleware,
              'http_basic': _http_basic}


def middleware_for(conf):
    """A factory ``(application, conf) -> middleware`` of ``[api]
    auth_strategy``.

    :raises AuthConfigError: from the factory, when the strategy cannot
        serve (an unreadable or malformed user file).
    """
    return STRATEGIES[conf.api.auth_strategy]


def is_loopback(host):
    """True when ``host`` (an address or a name) is a loopback address;
    a name must resolve to loopback addresses only."""
    try:
        return ipaddress.ip_address(host.strip('[]')).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return bool(infos) and all(
        ipaddress.ip_address(info[4][0].split('%')[0]).is_loopback
        for info in infos)


def check_start(conf, listen_host):
    """What a process serving the API on ``listen_host`` checks first.

    Under noauth: refuse a non-loopback address unless ``[api]
    allow_noauth_beyond_loopback``, and log a warning (every start).
    ``listen_host`` None means a WSGI server of the operator's listens,
    on an address this process cannot know: only the warning then.
    Under http_basic: the user file must load.

    :raises AuthConfigError: the daemon must not start.
    """
    strategy = conf.api.auth_strategy
    if strategy == 'http_basic':
        from orchestrator.api import auth_basic
        auth_basic.load_users(conf.api.http_basic_auth_user_file)
    if strategy != 'noauth':
        return
    if listen_host is not None and not is_loopback(listen_host) and \
            not conf.api.allow_noauth_beyond_loopback:
        raise AuthConfigError(
            'refusing to serve [api] auth_strategy = noauth on %s, beyond '
            'loopback: every caller would be an administrator (use '
            'keystone or http_basic, listen on 127.0.0.1, or set [api] '
            'allow_noauth_beyond_loopback = True)' % listen_host)
    LOG.warning('[api] auth_strategy = noauth: no authentication, every '
                'caller%s is an administrator of project %s (development '
                'only)', ' of %s' % listen_host if listen_host else '',
                conf.api.default_project_id)
