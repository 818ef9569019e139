"""The console's sign-in under ``[api] auth_strategy = keystone``.

The page posts a user's name, password and project; the API asks
Keystone (``[keystone_authtoken] www_authenticate_uri``, the address
clients are sent to) for a project-scoped token with the password and
gives the token back. The console then sends it as ``X-Auth-Token`` like
any client. Nothing of the request is logged or kept: a wrong password
is a 401 with the usual message, Keystone out of reach a 503.
"""

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import generic
from keystoneauth1 import session as ks_session

from orchestrator import exception

#: Seconds the sign-in waits for Keystone.
TIMEOUT_S = 15
DEFAULT_DOMAIN = 'Default'
_FIELDS = ('username', 'password', 'project_name')
_OPTIONAL = ('user_domain_name', 'project_domain_name')


class Unauthorized(exception.OrchestratorError):
    msg_fmt = 'The request you have made requires authentication.'
    code = 401


def credentials(body):
    """The sign-in's fields from a request body; Invalid (400) unless
    each required one is a non-empty string (the optional domains too,
    when given)."""
    if not isinstance(body, dict):
        raise exception.Invalid('The body must be an object with %s.'
                                % ', '.join(_FIELDS))
    out = {}
    for name in _FIELDS + _OPTIONAL:
        value = body.get(name)
        if value is None and name in _OPTIONAL:
            value = DEFAULT_DOMAIN
        if not isinstance(value, str) or not value or len(value) > 255:
            raise exception.Invalid('%s must be a non-empty string of at '
                                    'most 255 characters.' % name)
        out[name] = value
    return out


def keystone_url(conf):
    """Keystone's address the API sends clients to."""
    group = conf.keystone_authtoken
    url = getattr(group, 'www_authenticate_uri', None) or getattr(
        group, 'auth_uri', None)
    if not url:
        raise exception.ServiceUnavailable(
            'No Keystone address is configured ([keystone_authtoken] '
            'www_authenticate_uri).')
    return url


def token_for(conf, body):
    """A project-scoped Keystone token for the credentials of ``body``.

    :raises Invalid: the body lacks a field (400).
    :raises Unauthorized: Keystone refused them (401).
    :raises ServiceUnavailable: Keystone cannot be reached (503).
    """
    found = credentials(body)
    plugin = generic.Password(
        auth_url=keystone_url(conf), username=found['username'],
        password=found['password'], project_name=found['project_name'],
        user_domain_name=found['user_domain_name'],
        project_domain_name=found['project_domain_name'])
    try:
        return ks_session.Session(auth=plugin,
                                  timeout=TIMEOUT_S).get_token()
    except ks_exc.Unauthorized:
        raise Unauthorized() from None
    except (ks_exc.ConnectFailure, ks_exc.DiscoveryFailure,
            ks_exc.ConnectTimeout) as e:
        raise exception.ServiceUnavailable(
            'Keystone cannot be reached: %s' % type(e).__name__) from None
    except ks_exc.ClientException as e:
        # Anything else Keystone answered: a refusal (400 for a malformed
        # name, 403, 404 for an unknown project) is a failed sign-in, the
        # rest Keystone's failure; no detail that could echo the password.
        if getattr(e, 'http_status', None) in (400, 403, 404):
            raise Unauthorized() from None
        raise exception.ServiceUnavailable(
            'Keystone failed the sign-in (%s).' % type(e).__name__) \
            from None
