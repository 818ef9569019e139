"""The WSGI application factory.

:func:`build_app` returns the whole stack, outermost first:

1. :class:`ComputeRequestId` (oslo.middleware's ``RequestId``): the
   request id in ``x-openstack-request-id`` and Nova's
   ``x-compute-request-id`` on every response, errors, 401s and unknown
   routes included;
2. :class:`~orchestrator.api.errors.FaultWrapper`: every error is a
   Nova-style JSON fault;
3. :class:`~orchestrator.api.input_guard.InputGuard`: a path or query
   string that is not UTF-8 (or holds a NUL) is a 400;
4. :class:`~orchestrator.api.body_limit.BodySizeLimit` (``[oslo_middleware]
   max_request_body_size``): 413 ``overLimit``;
5. oslo.middleware ``HTTPProxyToWSGI`` (``[oslo_middleware]
   enable_proxy_headers_parsing``): links use the proxy's address;
6. the auth strategy (:mod:`orchestrator.api.auth`): the request context;
7. :class:`APIApplication`: routing, microversions, the handlers.

:func:`wrap` applies layers 1 to 5 to any inner application (tests put
another auth layer inside).

The factory reads nothing at import time and starts nothing: the caller
has configured the database and RPC already.
"""

import webob.dec

from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id

from orchestrator.api import aggregates
from orchestrator.api import availability_zones
from orchestrator.api import auth
from orchestrator.api import body_limit
from orchestrator.api import consoles
from orchestrator.api import errors
from orchestrator.api import extensions
from orchestrator.api import flavors
from orchestrator.api import hypervisors
from orchestrator.api import identity
from orchestrator.api import image_metadata
from orchestrator.api import image_proxy
from orchestrator.api import images
from orchestrator.api import input_guard
from orchestrator.api import instance_actions
from orchestrator.api import keypairs
from orchestrator.api import limits
from orchestrator.api import links
from orchestrator.api import microversion
from orchestrator.api import migrations
from orchestrator.api import os_hosts
from orchestrator.api import quota_sets
from orchestrator.api import request as api_request
from orchestrator.api import router as api_router
from orchestrator.api import server_actions
from orchestrator.api import server_actions_admin
from orchestrator.api import server_diagnostics
from orchestrator.api import server_groups
from orchestrator.api import server_ips
from orchestrator.api import server_tags
from orchestrator.api import server_lock
from orchestrator.api import server_shelve
from orchestrator.api import server_metadata
from orchestrator.api import server_password
from orchestrator.api import servers
from orchestrator.api import services
from orchestrator.api import tenant_usage
from orchestrator.api import usage_audit_log
from orchestrator.api import versions
from orchestrator.console import api as console_api
from orchestrator.console import assets as console_assets

#: Resource modules, each with ``register(router)``. Order matters only
#: where a literal path shadows a template (see the router).
RESOURCES = (versions, servers, server_actions, instance_actions, flavors,
             services, hypervisors, aggregates, images, image_proxy,
             image_metadata, identity,
             migrations, limits, quota_sets, keypairs, server_tags,
             server_metadata, availability_zones, tenant_usage, consoles,
             server_ips, server_groups, server_diagnostics, os_hosts,
             usage_audit_log, server_password, extensions,
             console_api, console_assets)

#: Modules that only add handlers to server_actions.HANDLERS (imported
#: above for that; listed so the import is not mistaken for unused).
ACTION_MODULES = (server_actions_admin, server_lock, consoles,
                  server_shelve)


def build_router():
    """A router with every resource's routes."""
    router = api_router.Router()
    for module in RESOURCES:
        module.register(router)
    return router


class APIApplication:
    """Routes a request, applies its microversion, calls the handler.

    A legacy ``/v2/...`` request is routed as ``/v2.1/...`` at
    microversion 2.1 (:func:`orchestrator.api.versions.legacy_v2_path`).

    Errors raised by a handler become faults here, so they carry the
    microversion headers like any other response under ``/v2.1``.
    """

    def __init__(self, router, conf):
        self.router = router
        self.conf = conf

    @webob.dec.wsgify(RequestClass=api_request.APIRequest)
    def __call__(self, req):
        req.environ[api_request.CONF_KEY] = self.conf
        version_headers = {}
        legacy = versions.legacy_v2_path(req.path_info)
        if legacy is not None:
            req.path_info = legacy
        try:
            links.check(req)
            route, params = self.router.match(req.method, req.path_info)
            if route.versioned and legacy is not None:
                # Legacy v2.0: always 2.1, never a microversion header.
                req.environ[api_request.VERSION_KEY] = \
                    microversion.MIN_VERSION
            elif route.versioned:
                version = microversion.from_headers(req.headers)
                req.environ[api_request.VERSION_KEY] = version
                version_headers = microversion.response_headers(version)
            response = route.handler(req, **params)
        except Exception as e:  # noqa: BLE001 - turned into a fault
            response = errors.response_for(
                e, req.environ.get(errors.REQUEST_ID_KEY))
        response.headers.update(version_headers)
        return response


class ComputeRequestId(request_id.RequestId):
    """oslo.middleware's request id middleware, answering the id in
    Nova's own header too (clients and tempest read either)."""

    compat_headers = ['x-compute-request-id']


def wrap(app, conf):
    """``app`` inside the middlewares every request crosses first (the
    layers 1 to 5 of this module's list)."""
    app = http_proxy_to_wsgi.HTTPProxyToWSGI(app, conf)
    app = body_limit.BodySizeLimit(app, conf)
    app = input_guard.InputGuard(app)
    app = errors.FaultWrapper(app)
    return ComputeRequestId(app, conf)


def build_app(conf):
    """The API's WSGI application, configured by ``conf``.

    :param conf: an oslo.config ``ConfigOpts`` with every orchestrator
        group registered (:func:`orchestrator.conf.register_all`).
    """
    app = APIApplication(build_router(), conf)
    return wrap(auth.middleware_for(conf)(app, conf), conf)
