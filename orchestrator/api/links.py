"""Links in response bodies, built from the URL the client used.

The base is the request's host URL plus its script name, so an API behind
a proxy that sends ``X-Forwarded-*``/``Forwarded`` headers (parsed by
oslo.middleware's HTTPProxyToWSGI when ``[oslo_middleware]
enable_proxy_headers_parsing`` is on) links to the proxy's address.
"""

COMPUTE_PREFIX = '/v2.1'


def base_url(req):
    """Scheme, host and mount point of the API, without a trailing slash."""
    return (req.host_url + req.script_name).rstrip('/')


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
