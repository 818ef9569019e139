"""Who is calling: the ``noauth`` strategy (``[api] auth_strategy``).

Any token, or none, is accepted; the caller is an administrator of
``[api] default_project_id`` as ``[api] default_user_id``. Handlers still
ask ``context.is_admin`` for admin-only resources, so a real strategy
(Keystone tokens) only has to build a different context here.
"""

import webob.dec

from oslo_context import context as oslo_context

from orchestrator import context as orch_context
from orchestrator.api import request as api_request

REQUEST_ID_KEY = 'openstack.request_id'
GLOBAL_REQUEST_ID_KEY = 'openstack.global_request_id'


class NoAuthMiddleware:
    """Puts an admin :class:`RequestContext` in the WSGI environment."""

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf

    @webob.dec.wsgify
    def __call__(self, req):
        request_id = (req.environ.get(REQUEST_ID_KEY)
                      or oslo_context.generate_request_id())
        req.environ[api_request.CONTEXT_KEY] = orch_context.RequestContext(
            user_id=self.conf.api.default_user_id,
            project_id=self.conf.api.default_project_id,
            is_admin=True, roles=['admin', 'member', 'reader'],
            request_id=request_id,
            global_request_id=req.environ.get(GLOBAL_REQUEST_ID_KEY),
            auth_token=req.headers.get('X-Auth-Token'))
        return req.get_response(self.application)


STRATEGIES = {'noauth': NoAuthMiddleware}


def middleware_for(conf):
    """The middleware class of ``[api] auth_strategy``."""
    return STRATEGIES[conf.api.auth_strategy]
