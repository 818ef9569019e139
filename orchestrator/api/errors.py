"""Nova-style error bodies, and the middleware that guarantees them.

Every error leaves the API as ``{"<faultName>": {"message": ..., "code":
N}}`` with a JSON content type, whatever raised it:

* :class:`orchestrator.exception.OrchestratorError` carries its code and
  message;
* a ``webob.exc.HTTPException`` (e.g. the 413 of the body size limiter)
  keeps its code and explanation;
* anything else is a bug: logged with its traceback, answered 500
  ``computeFault`` with the request id only: no exception type, message
  or traceback.

The fault names are Nova's; a code without a name of its own (406, 500,
...) is a ``computeFault``, as in Nova.
"""

import logging

import webob
import webob.dec
import webob.exc

from oslo_db import exception as db_exc
from sqlalchemy import exc as sa_exc

from orchestrator import exception
from orchestrator.api import request as api_request

LOG = logging.getLogger(__name__)

FAULT_NAMES = {
    400: 'badRequest',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'itemNotFound',
    405: 'badMethod',
    409: 'conflictingRequest',
    413: 'overLimit',
    415: 'badMediaType',
    429: 'overLimit',
    501: 'notImplemented',
    503: 'serviceUnavailable',
}
DEFAULT_FAULT_NAME = 'computeFault'
REQUEST_ID_KEY = 'openstack.request_id'


#: Errors meaning the database cannot be reached now (a 503, not a bug).
DB_UNAVAILABLE = (db_exc.DBConnectionError, sa_exc.OperationalError,
                  sa_exc.InterfaceError, sa_exc.DisconnectionError)


def fault_response(code, message, headers=None):
    """A JSON error response with Nova's body for ``code``."""
    name = FAULT_NAMES.get(code, DEFAULT_FAULT_NAME)
    return api_request.json_response(
        {name: {'message': message, 'code': code}}, status=code,
        headers=headers)


def response_for(error, request_id=None):
    """The error response for an exception raised while serving a request.

    Unexpected exceptions are logged here (with the request id), so the
    caller only returns what this gives.
    """
    if isinstance(error, exception.OrchestratorError):
        if error.code >= 500:
            LOG.error('Request %s failed: %s', request_id, error.message)
        return fault_response(error.code, error.message)
    if isinstance(error, DB_UNAVAILABLE):
        LOG.error('Request %s: the database is unavailable: %s',
                  request_id, error)
        return fault_response(
            503, 'The database is unavailable. Try again later.')
    if isinstance(error, webob.exc.HTTPException):
        code = error.code
        message = error.detail or error.explanation or error.title
        headers = {}
        if code == 405 and error.headers.get('Allow'):
            headers['Allow'] = error.headers['Allow']
        return fault_response(code, message, headers)
    LOG.exception('Unexpected error serving request %s', request_id)
    # NOTE(api): nothing of the error itself (type, message, traceback)
    # goes to the client: the request id leads to it in the log.
    return fault_response(
        500, 'Unexpected API Error. Please report it with the request id '
             '%s; the API log has the details.' % request_id)


def _is_json(response):
    return (response.content_type or '').endswith('json')


class FaultWrapper:
    """WSGI middleware: no error leaves without a Nova-style JSON body.

    Sits just inside the request id middleware, so every fault it makes
    still gets ``x-openstack-request-id``. Error responses of the
    middlewares inside it (oslo.middleware answers in text or HTML) are
    rewritten as faults with the same code and message.
    """

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        request_id = req.environ.get(REQUEST_ID_KEY)
        try:
            response = req.get_response(self.application)
        except Exception as e:  # noqa: BLE001 - the last line of defence
            return response_for(e, request_id)
        if response.status_int >= 400 and not _is_json(response):
            message = _plain_message(response)
            fault = fault_response(response.status_int, message)
            if response.headers.get('Allow'):
                fault.headers['Allow'] = response.headers['Allow']
            return fault
        return response


def _plain_message(response):
    """The human message of a text/HTML error response of a middleware."""
    text = response.text if response.charset else ''
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and '<' not in line]
    # webob's plain-text errors are "<status>\n\n<explanation>".
    lines = [line for line in lines if line != response.status]
    return ' '.join(lines) or response.status
