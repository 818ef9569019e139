"""WSGI middleware: the request line is text the API can use, or a 400.

A WSGI server hands over ``PATH_INFO`` (percent-decoded) and
``QUERY_STRING`` (as sent) as bytes in latin-1 strings (PEP 3333); webob
decodes them as UTF-8 when a handler first reads ``req.path_info`` or
``req.GET``, and raised ``UnicodeDecodeError`` (a 500) for ``/servers/%ff``
or ``?limit=%ED%A0%80``. This middleware decodes both once, strictly,
before anything else reads them, and refuses with 400 ``badRequest``:

* a path or a query string that is not UTF-8 once percent-decoded
  (surrogates, such as ``%ED%A0%80``, are not UTF-8 either);
* a NUL character in either (PostgreSQL refuses NUL in text, so a NUL
  reaching a query would be a database error, not a clean 404).

The message never repeats the offending bytes. Everything else passes
through untouched.
"""

import urllib.parse

import webob.dec

from orchestrator.api import errors


def _bytes_of(wsgi_text):
    """The bytes a PEP 3333 string stands for (a server that put decoded
    text there gives its UTF-8 form, surrogates kept so they are
    refused)."""
    try:
        return wsgi_text.encode('latin-1')
    except UnicodeEncodeError:
        return wsgi_text.encode('utf-8', 'surrogatepass')


def problem(environ):
    """Why the request line is unusable (a message), or None when its path
    and query string are NUL-free UTF-8."""
    checks = (
        ('path', _bytes_of(environ.get('PATH_INFO', ''))),
        # NOTE(api): '&', '=', ';' and '+' are ASCII and never inside a
        # UTF-8 sequence, so the whole string decodes if every parameter
        # does, as webob splits and decodes them.
        ('query string', urllib.parse.unquote_to_bytes(
            _bytes_of(environ.get('QUERY_STRING', '')))),
    )
    for what, raw in checks:
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            return ('The request %s is not valid UTF-8 once '
                    'percent-decoded.' % what)
        if '\x00' in text:
            return 'The request %s contains a NUL character.' % what
    return None


class InputGuard:
    """Answers 400 to a request whose path or query string :func:`problem`
    refuses; passes the others to ``application``."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        message = problem(req.environ)
        if message is not None:
            return errors.fault_response(400, message)
        return req.get_response(self.application)
