"""Checks the authentication tests share (unit tests on webob responses,
functional tests on requests' ones)."""

import webob
import webob.dec

from orchestrator.api import auth
from orchestrator.api import request as api_request

#: The request context's fields the echo application shows.
CONTEXT_FIELDS = ('user_id', 'project_id', 'roles', 'is_admin',
                  'system_scope', 'auth_token')


def assert_unauthorized(resp, challenge):
    """``resp`` is the API's 401: a Nova-style JSON fault, with
    ``WWW-Authenticate: <challenge>`` and a request id."""
    if isinstance(resp, webob.Response):
        status, body = resp.status_int, resp.json
        challenges = resp.headers.getall('WWW-Authenticate')
    else:
        status, body = resp.status_code, resp.json()
        challenges = [resp.headers.get('WWW-Authenticate')]
    assert status == 401, (status, body)
    assert resp.headers['Content-Type'].startswith('application/json')
    assert body == {'unauthorized': {'message': auth.UNAUTHORIZED_MESSAGE,
                                     'code': 401}}
    assert challenges == [challenge]
    assert resp.headers['x-openstack-request-id'].startswith('req-')


@webob.dec.wsgify
def context_echo(req):
    """A WSGI application answering with the request context it was
    given and the identity headers it still sees."""
    ctxt = req.environ[api_request.CONTEXT_KEY]
    return webob.Response(json={
        'context': {k: getattr(ctxt, k) for k in CONTEXT_FIELDS},
        'identity_headers': sorted(
            k for k in req.environ
            if k.startswith(auth.IDENTITY_HEADER_PREFIXES))})
