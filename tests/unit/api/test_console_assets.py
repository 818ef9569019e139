"""The web console's page and static files (orchestrator/console/assets.py):
served with their content types, validators and security headers, to
anyone (no credentials) under every auth strategy, and nothing else."""

import os

import pytest

from orchestrator.api import app as api_app
from orchestrator.console import assets

from tests.unit.api.conftest import call

#: The files the page needs, and their content types.
EXPECTED = {'index.html': 'text/html', 'console.js': 'text/javascript',
            'console.css': 'text/css', 'favicon.svg': 'image/svg+xml'}


@pytest.fixture
def basic_app(db, conf, tmp_path):
    """The whole API under http_basic with an empty user file: nobody
    has credentials."""
    users = tmp_path / 'users'
    users.write_text('')
    users.chmod(0o600)
    conf.set_override('auth_strategy', 'http_basic', group='api')
    conf.set_override('http_basic_auth_user_file', str(users), group='api')
    return api_app.build_app(conf)


def _assert_secured(resp):
    csp = resp.headers['Content-Security-Policy']
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert 'unsafe' not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers['X-Frame-Options'] == 'DENY'
    assert resp.headers['X-Content-Type-Options'] == 'nosniff'


def test_the_static_directory_holds_what_the_page_loads():
    assert assets.served_files() == {
        name: assets.CONTENT_TYPES[os.path.splitext(name)[1]]
        for name in EXPECTED}
    page = open(os.path.join(assets.STATIC_DIR, 'index.html')).read()
    for name in ('console.js', 'console.css', 'favicon.svg'):
        assert 'href="static/%s"' % name in page or \
            'src="static/%s"' % name in page, name
    # Nothing from another origin, nothing inline the policy would block.
    assert 'http' not in page.replace('http-equiv', '')
    assert '<script>' not in page and 'style=' not in page


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_every_file_is_public_with_its_type(basic_app, name):
    resp = call(basic_app, 'GET', '/console/static/' + name)
    assert resp.status_int == 200, resp.text
    assert resp.content_type == EXPECTED[name]
    with open(os.path.join(assets.STATIC_DIR, name), 'rb') as f:
        assert resp.body == f.read()
    assert resp.headers['Cache-Control'] == 'no-cache'
    assert resp.etag
    _assert_secured(resp)
    again = call(basic_app, 'GET', '/console/static/' + name,
                 headers={'If-None-Match': '"%s"' % resp.etag})
    assert again.status_int == 304
    assert again.body == b''


def test_the_page_is_public_and_the_bare_path_redirects(basic_app):
    page = call(basic_app, 'GET', '/console/')
    assert page.status_int == 200
    assert page.content_type == 'text/html'
    assert b'static/console.js' in page.body
    _assert_secured(page)
    bare = call(basic_app, 'GET', '/console')
    assert bare.status_int == 301
    assert bare.location.endswith('/console/')
    # The API itself still wants credentials.
    assert call(basic_app, 'GET', '/v2.1/servers').status_int == 401


@pytest.mark.parametrize('path', [
    '/console/static/nope.js', '/console/static/..',
    '/console/static/..%2Fassets.py', '/console/static/../assets.py',
    '/console/static/assets.py', '/console/static/%2e%2e',
    '/console/static/static', '/console/static/.hidden.js',
    '/console/static/index.html/x', '/console/static/',
])
def test_anything_else_is_a_404_fault(basic_app, path):
    resp = call(basic_app, 'GET', path)
    assert resp.status_int == 404, (path, resp.status_int, resp.body[:200])
    assert resp.json['itemNotFound']['code'] == 404
    assert b'import' not in resp.body


def test_only_gets_of_the_page_and_its_files_are_public(basic_app):
    assert call(basic_app, 'POST', '/console/static/console.js'
                ).status_int == 401
    assert call(basic_app, 'POST', '/console/').status_int == 401
    # Other paths under /console (its JSON API) are not.
    assert call(basic_app, 'GET', '/console/x').status_int == 401
    assert call(basic_app, 'GET', '/console/staticx').status_int == 401


def test_served_files_lists_only_plain_names_of_known_kinds(tmp_path):
    for name in ('a.js', 'b.css', 'c.html', 'd.png', '.e.js', 'f.py',
                 'g.js~', 'README'):
        (tmp_path / name).write_text('x')
    (tmp_path / 'sub.js').mkdir()
    assert sorted(assets.served_files(str(tmp_path))) == [
        'a.js', 'b.css', 'c.html', 'd.png']
