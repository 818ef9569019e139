"""WSGI middleware: request bodies larger than ``[oslo_middleware]
max_request_body_size`` are refused with 413 ``overLimit``.

It reads the option oslo.middleware's ``RequestBodySizeLimiter`` defines
(so configuration files keep working) and behaves the same, except for
its message: oslo.middleware answered a too large ``Content-Length`` with
the literal text "max_request_body_size (%s)". Here:

* a ``Content-Length`` above the limit is refused before the body is read;
* a body without ``Content-Length`` (chunked) is read through
  oslo.middleware's ``LimitingReader``, which raises the 413 once more
  than the limit has been read (the handler reading the body then
  answers it; its message names the limit too).
"""

import webob.dec

from oslo_middleware import sizelimit

from orchestrator.api import errors


class BodySizeLimit:
    """Refuses request bodies over the configured size (413)."""

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf
        conf.register_opts(sizelimit.OPTS, group='oslo_middleware')

    @webob.dec.wsgify
    def __call__(self, req):
        limit = self.conf.oslo_middleware.max_request_body_size
        if req.content_length is not None and req.content_length > limit:
            return errors.fault_response(
                413, 'Request is too large: the body has %d bytes, '
                     'max_request_body_size is %d.'
                     % (req.content_length, limit))
        if req.content_length is None:
            req.body_file = sizelimit.LimitingReader(req.body_file, limit)
        return req.get_response(self.application)
