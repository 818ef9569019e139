"""Links in response bodies and Location headers.

With ``[api] public_endpoint`` set, every link starts with it, whatever
the request's headers say. Unset (development, the all-in-one), the base
is the request's host URL plus its script name, so an API behind a proxy
that sends ``X-Forwarded-*``/``Forwarded`` headers (parsed by
oslo.middleware's HTTPProxyToWSGI when ``[oslo_middleware]
enable_proxy_headers_parsing`` is on) links to the proxy's address; a
daemon listening beyond loopback without it warns at start
(:func:`check_start`).

:func:`check` refuses (400) a request whose scheme, host or mount point
cannot make a link: a ``Host``, ``X-Forwarded-Host`` or ``Forwarded``
host that is no ``host[:port]``, an ``X-Forwarded-Proto`` that is no URL
scheme, an ``X-Forwarded-Prefix`` that is not UTF-8 or has control
characters or spaces. Without it such a request was a 500 (webob decodes
the prefix as UTF-8) or got links, and a ``Location`` header, with
whatever the header held.
"""

import logging
import re

from orchestrator import exception
from orchestrator.api.auth import is_loopback

LOG = logging.getLogger(__name__)
#: The WSGI environment key of the configuration (api.request.CONF_KEY;
#: request imports this module's users, not the other way round).
CONF_KEY = 'orchestrator.conf'

COMPUTE_PREFIX = '/v2.1'

# RFC 3986: a reg-name or IPv4 address (unreserved, sub-delims and
# percent-encoding), or an IP literal in brackets (a zone id too); then an
# optional port.
_HOST_RE = re.compile(r"(\[[0-9A-Za-z:.%_~-]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)"
                      r"(:[0-9]{0,5})?")
_SCHEME_RE = re.compile(r'[A-Za-z][A-Za-z0-9+.-]*')
_PREFIX_RE = re.compile(r'[^\x00-\x20\x7f]*')


def check(req):
    """400 unless the request's scheme, host and script name make links.

    :raises Invalid: naming the header, never repeating its value.
    """
    if not _SCHEME_RE.fullmatch(req.scheme or ''):
        raise exception.Invalid('The request scheme (X-Forwarded-Proto or '
                                'the proto of Forwarded) is not a URL '
                                'scheme.')
    if not _HOST_RE.fullmatch(req.host or ''):
        raise exception.Invalid('The request host (Host, X-Forwarded-Host '
                                'or the host of Forwarded) is not a valid '
                                'host[:port].')
    try:
        script_name = req.script_name
    except UnicodeDecodeError:
        raise exception.Invalid('The X-Forwarded-Prefix header is not '
                                'valid UTF-8.') from None
    if not _PREFIX_RE.fullmatch(script_name):
        raise exception.Invalid('The X-Forwarded-Prefix header has spaces '
                                'or control characters.')


def base_url(req):
    """Scheme, host and mount point of the API, without a trailing slash:
    ``[api] public_endpoint`` when set, else the request's."""
    conf = req.environ.get(CONF_KEY)
    if conf is not None and conf.api.public_endpoint:
        return conf.api.public_endpoint.rstrip('/')
    return (req.host_url + req.script_name).rstrip('/')


def check_start(conf, listen_host):
    """Warn when a daemon listening on ``listen_host`` beyond loopback
    builds links from request headers (no ``[api] public_endpoint``)."""
    if conf.api.public_endpoint or not listen_host or \
            is_loopback(listen_host):
        return
    LOG.warning('[api] public_endpoint is not set: links in responses are '
                'built from the Host header of each request, which clients '
                'control; set it to the URL clients use')


def compute_url(req, *parts):
    """``<base>/v2.1/<parts...>``."""
    return '/'.join([base_url(req) + COMPUTE_PREFIX] + [str(p) for p in parts])


def bookmark_url(req, *parts):
    """A version-less link, as Nova's ``bookmark`` links are."""
    return '/'.join([base_url(req)] + [str(p) for p in parts])


def resource_links(req, collection, ident):
    """The ``self`` and ``bookmark`` links of one resource."""
    return [{'rel': 'self', 'href': compute_url(req, collection, ident)},
            {'rel': 'bookmark', 'href': bookmark_url(req, collection, ident)}]


def bookmark_links(req, collection, ident):
    """Only the bookmark link (a server's image and flavor references)."""
    return [{'rel': 'bookmark', 'href': bookmark_url(req, collection, ident)}]
