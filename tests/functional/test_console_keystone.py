"""The console's sign-in against a real Keystone: a token for a user's
password, the session that token makes, refusals, and no password in
any log line or answer."""

import logging

import requests

from tests import keystone_server
from tests.functional.test_keystone_auth import keystone_api  # noqa: F401

USER = 'alpha-reader'


def _console(node, method, path, token=None, **kwargs):
    headers = {'X-Auth-Token': token} if token else {}
    return requests.request(method, node.url + '/console/api' + path,
                            headers=headers, timeout=30, **kwargs)


def test_console_sign_in_with_keystone(keystone_api, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    node = keystone_api
    password = keystone_server.password(USER)
    anonymous = _console(node, 'GET', '/session')
    assert anonymous.status_code == 200
    assert (anonymous.json()['auth_strategy'],
            anonymous.json()['authenticated']) == ('keystone', False)
    assert _console(node, 'GET', '/servers').status_code == 401
    resp = _console(node, 'POST', '/login', json={
        'username': USER, 'password': password, 'project_name': 'alpha'})
    assert resp.status_code == 200, resp.text
    token = resp.json()['token']
    session = _console(node, 'GET', '/session', token).json()
    assert (session['authenticated'], session['roles'],
            session['can_view_all'], session['can_repair']) == (
        True, ['reader'], False, False)
    assert _console(node, 'GET', '/servers', token).status_code == 200
    assert _console(node, 'GET', '/hosts', token).status_code == 403
    # A token Keystone does not know: anonymous on the session, 401
    # elsewhere.
    assert _console(node, 'GET', '/session', 'not-a-token').json()[
        'authenticated'] is False
    assert _console(node, 'GET', '/flows', 'not-a-token').status_code == 401
    wrong = _console(node, 'POST', '/login', json={
        'username': USER, 'password': 'not-' + password,
        'project_name': 'alpha'})
    assert wrong.status_code == 401
    assert wrong.json() == {'unauthorized': {
        'code': 401,
        'message': 'The request you have made requires authentication.'}}
    for text in (caplog.text, wrong.text, resp.text):
        assert password not in text
