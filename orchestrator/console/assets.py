"""The console's static files: ``GET /console/`` (the page) and
``GET /console/static/<file>`` (its script, style sheet, icon).

Contract:

* only the files of :data:`CONTENT_TYPES`'s kinds that are directly in
  ``static/`` (listed once, when the routes are registered) are served:
  a name is looked up in that listing and never joined to a path, so
  ``..``, encoded slashes or any other name is a 404 ``itemNotFound``;
* each answer has its content type, an ``ETag`` (a digest of the
  content) and ``Cache-Control: no-cache`` (the browser revalidates and
  gets a 304 while the file is unchanged, and sees a new release at
  once), and the security headers of :data:`SECURITY_HEADERS`: scripts,
  styles, images and requests from this origin only, no framing;
* ``/console`` without its slash redirects to ``/console/`` so the
  page's relative links (``static/...``, ``api/...``) resolve under it,
  behind a proxy's path prefix too;
* these paths are public (:func:`orchestrator.api.auth.is_public`): they
  hold no data; every datum comes from ``/console/api/`` with the
  caller's credentials.

Files are read when asked for (they are small): an edited file is served
as it is now.
"""

import hashlib
import os
import re

import webob

from orchestrator import exception

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'static')
PAGE = 'index.html'
#: URL of the page and prefix of its files.
CONSOLE_PATH = '/console'
STATIC_PREFIX = CONSOLE_PATH + '/static/'

#: File extension -> content type of what is served.
CONTENT_TYPES = {
    '.html': 'text/html; charset=UTF-8',
    '.js': 'text/javascript; charset=UTF-8',
    '.css': 'text/css; charset=UTF-8',
    '.svg': 'image/svg+xml',
    '.png': 'image/png',
}
#: Names a served file may have (no directory part, no leading dot).
_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*\Z')

#: Headers of every answer of this module.
SECURITY_HEADERS = {
    'Content-Security-Policy': (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
}


def served_files(directory=STATIC_DIR):
    """{name: content type} of the files ``directory`` serves."""
    found = {}
    for name in sorted(os.listdir(directory)):
        kind = CONTENT_TYPES.get(os.path.splitext(name)[1])
        if kind and _NAME.match(name) and \
                os.path.isfile(os.path.join(directory, name)):
            found[name] = kind
    return found


class StaticFiles:
    """The handlers of the console's page and files in ``directory``."""

    def __init__(self, directory=STATIC_DIR):
        self.directory = directory
        self.files = served_files(directory)

    def _serve(self, req, name):
        kind = self.files.get(name)
        if kind is None:
            raise exception.NotFound('The console has no file %s.'
                                     % name[:100])
        with open(os.path.join(self.directory, name), 'rb') as f:
            body = f.read()
        response = webob.Response(body=body, content_type=kind.split(';')[0],
                                  charset='UTF-8' if 'charset' in kind
                                  else None)
        response.headers.update(SECURITY_HEADERS)
        response.etag = hashlib.sha256(body).hexdigest()[:32]
        return _conditional(req, response)

    def page(self, req):
        """GET /console/ : the single page (200), or a 301 to it from
        ``/console``."""
        if not req.path_info.endswith('/'):
            response = webob.Response(status=301)
            response.location = req.script_name + CONSOLE_PATH + '/'
            response.headers.update(SECURITY_HEADERS)
            del response.content_type
            response.content_length = 0
            return response
        return self._serve(req, PAGE)

    def asset(self, req, asset_name):
        """GET /console/static/{asset_name} : one file (200, 304) or a
        404 for any name that is not a served file."""
        return self._serve(req, asset_name)


def _conditional(req, response):
    """``response``, or a 304 when the request holds its ETag."""
    if req.if_none_match and response.etag in req.if_none_match:
        not_modified = webob.Response(status=304)
        del not_modified.content_type
        not_modified.headers.update(SECURITY_HEADERS)
        not_modified.etag = response.etag
        return not_modified
    return response


def register(router):
    files = StaticFiles()
    router.add('GET', CONSOLE_PATH, files.page)
    router.add('GET', STATIC_PREFIX + '{asset_name}', files.asset)
