"""The request and response types every handler uses.

A handler is ``handler(req, **path_params) -> webob.Response``; ``req`` is
an :class:`APIRequest`, which knows the caller (:attr:`context`), the
microversion it asked for (:attr:`api_version`), the service configuration
(:attr:`conf`) and how to read a JSON body without ever raising anything
but a 400.
"""

import json

import webob

from orchestrator import exception
from orchestrator import policy
from orchestrator.api import json_input
from orchestrator.api import microversion

CONTEXT_KEY = 'orchestrator.context'
VERSION_KEY = 'orchestrator.api_version'
CONF_KEY = 'orchestrator.conf'
_SEES_ALL_KEY = 'orchestrator.sees_all_projects'


class APIRequest(webob.Request):
    """A webob request with the API's per-request state."""

    @property
    def context(self):
        """The :class:`orchestrator.context.RequestContext` of the caller."""
        return self.environ[CONTEXT_KEY]

    @property
    def api_version(self):
        """The microversion served (2.1 outside /v2.1)."""
        return self.environ.get(VERSION_KEY, microversion.MIN_VERSION)

    @property
    def conf(self):
        return self.environ[CONF_KEY]

    def at_least(self, major, minor):
        """True when the requested microversion is >= major.minor."""
        return self.api_version >= (major, minor)

    def json_body(self):
        """The decoded JSON body (see :func:`json_input.loads`).

        :raises Invalid: no body, not JSON, nested too deep, or strings
            that cannot be stored (400 "Malformed request body").
        """
        try:
            raw = self.body
        except UnicodeDecodeError:
            raise exception.Invalid('Malformed request body') from None
        return json_input.loads(raw)

    def authorize(self, rule, target=None):
        """403 unless policy ``rule`` allows the caller on ``target``
        (a dict with the target's ``project_id``; default: the caller's
        own project). See :mod:`orchestrator.policy`."""
        policy.authorize(self.conf, self.context, rule, target)

    def can(self, rule, target=None):
        """True when policy ``rule`` allows the caller on ``target``."""
        return policy.check(self.conf, self.context, rule, target)

    @property
    def sees_all_projects(self):
        """True when the caller finds any project's resources by id
        (policy ``context_is_admin``); others find their own only, and
        another project's server is a 404 to them, never a 403."""
        cached = self.environ.get(_SEES_ALL_KEY)
        if cached is None:
            cached = policy.sees_all_projects(self.conf, self.context)
            self.environ[_SEES_ALL_KEY] = cached
        return cached

    def owner_project(self):
        """The project a resource must belong to for this caller: None
        (any) when :attr:`sees_all_projects`, else the caller's."""
        return None if self.sees_all_projects else self.context.project_id


def dispatch_action(req, handlers, *args):
    """Run the handler of a ``POST .../action`` body (``{key: ...}``,
    one key of ``handlers``: a dict key -> ``handler(req, *args, body)``);
    400 unless exactly one of them is there."""
    body = req.json_body()
    keys = [k for k in handlers if isinstance(body, dict) and k in body]
    if len(keys) != 1:
        raise exception.Invalid('The action must be one of %s.'
                                % ', '.join(sorted(handlers)))
    return handlers[keys[0]](req, *args, body)


def json_response(body, status=200, headers=None):
    """A JSON response (``body`` is any JSON-serialisable object)."""
    response = webob.Response(status=status, charset='UTF-8',
                              content_type='application/json',
                              body=json.dumps(body).encode('utf-8'))
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def empty_response(status):
    """A response with no body (202 of an action, 204 of a delete)."""
    response = webob.Response(status=status)
    # NOTE(api): no body means no content type, or clients try to parse.
    del response.content_type
    response.content_length = 0
    return response
