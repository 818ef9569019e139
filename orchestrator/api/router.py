"""A small router: (method, path template) -> handler.

Templates look like ``/v2.1/servers/{server_id}``; a ``{name}`` matches
one path segment and is passed to the handler as a keyword argument.
Routes match in the order they were added, so a literal segment
(``/servers/detail``) must be added before the template it shadows
(``/servers/{server_id}``). A trailing slash is ignored, so both
``/v2.1/servers`` and ``/v2.1/servers/`` reach the same handler.

A path no template matches is a 404 ``itemNotFound``; a path that matches
with another method is a 405 ``badMethod`` with an ``Allow`` header.
One exception, as Nova answers it: a path ending in a slash whose method
is served one segment further on names a blank id (``DELETE
/v2.1/images/`` is ``DELETE /v2.1/images/{image_id}`` with an empty id),
so it is a 404 like any unknown id, not a 405 of the collection.
"""

import dataclasses
import re
import typing

import webob.exc

from orchestrator import exception

_PARAM_RE = re.compile(r'\{([a-z_]+)\}')


@dataclasses.dataclass(frozen=True)
class Route:
    """One route.

    :ivar versioned: a Compute API route (under ``/v2.1``): the request's
        microversion is parsed and echoed for it.
    """

    method: str
    template: str
    pattern: typing.Pattern
    handler: typing.Callable
    versioned: bool


def _compile(template):
    parts, pos = [], 0
    for match in _PARAM_RE.finditer(template):
        parts.append(re.escape(template[pos:match.start()]))
        parts.append('(?P<%s>[^/]+)' % match.group(1))
        pos = match.end()
    parts.append(re.escape(template[pos:]))
    return re.compile('^%s$' % ''.join(parts))


def _normalise(path):
    path = path.rstrip('/')
    return path or '/'


class Router:
    """Holds the routes; :meth:`match` finds the one for a request."""

    def __init__(self):
        self._routes = []

    def add(self, method, template, handler):
        """Route ``method`` on ``template`` to ``handler(req, **params)``."""
        template = _normalise(template)
        self._routes.append(Route(
            method=method.upper(), template=template,
            pattern=_compile(template), handler=handler,
            versioned=template.startswith('/v2.1')))

    def routes(self):
        return list(self._routes)

    def _takes_an_id_after(self, method, path):
        """True when a route of ``method`` takes one more segment after
        ``path`` (``path/{param}``)."""
        longer = path.rstrip('/') + '/x'
        return any(route.method == method and route.pattern.match(longer)
                   and route.template.endswith('}')
                   for route in self._routes)

    def match(self, method, path):
        """The route and its path parameters.

        :raises NotFound: no template matches the path, or a path ending
            in a slash names a blank id for this method (404).
        :raises webob.exc.HTTPMethodNotAllowed: a template matches, but
            not with this method (405).
        """
        blank_id = path.endswith('/') and len(path) > 1
        path = _normalise(path)
        allowed = []
        for route in self._routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method.upper():
                return route, found.groupdict()
            allowed.append(route.method)
        if allowed and blank_id and self._takes_an_id_after(
                method.upper(), path):
            raise exception.NotFound('The resource could not be found.')
        if allowed:
            raise webob.exc.HTTPMethodNotAllowed(
                explanation='The method %s is not allowed for this resource.'
                            % method.upper(),
                headers={'Allow': ', '.join(sorted(set(allowed)))})
        raise exception.NotFound('The resource could not be found.')
