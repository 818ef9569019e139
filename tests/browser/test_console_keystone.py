"""The web console's sign-in under ``[api] auth_strategy = keystone``, in
headless chromium against a real Keystone (tests/keystone_server.py) and
an all-in-one checking its tokens: a wrong password is refused on the
page, a user's name, password and project sign in (the API fetches the
token), and a pasted token does too."""

import pytest

from tests import keystone_server
from tests.browser.conftest import AllInOne
from tests.browser.pages import attr
from tests.browser.pages import by_id
from tests.browser.pages import click
from tests.browser.pages import shot
from tests.browser.pages import shown
from tests.browser.pages import text
from tests.browser.pages import wait
from tests.conftest import service_missing
from tests.functional.systems import free_port


@pytest.fixture(scope='module')
def keystone(browser_ready, tmp_path_factory):
    why = keystone_server.missing()
    if why:
        service_missing('Keystone', why)
    yield from keystone_server.running(
        tmp_path_factory.mktemp('keystone'), free_port())


@pytest.fixture(scope='module')
def keystone_system(keystone, tmp_path_factory):
    options = {'api': {'auth_strategy': 'keystone'},
               'keystone_authtoken': keystone.authtoken_options()}
    node = AllInOne(str(tmp_path_factory.mktemp('console-ks')), options)
    try:
        node.start()
        yield node
    finally:
        node.stop()


def _fill(driver, user, password, project):
    for field, value in (('login-username', user),
                         ('login-password', password),
                         ('login-project', project)):
        element = by_id(driver, field)
        element.clear()
        element.send_keys(value)


def test_keystone_sign_in_with_a_password_or_a_token(driver, keystone,
                                                    keystone_system):
    url = keystone_system.url + '/console/'
    driver.get(url)
    driver.execute_script('sessionStorage.clear()')
    driver.get(url + '#/login')
    shown(driver, '#login-project')
    assert attr(driver, '#login-domain', 'value') == 'Default'
    shot(driver, 'login-keystone')
    # A wrong password: refused on the page, nothing stored.
    _fill(driver, 'alpha-member', 'wrong-password', 'alpha')
    click(driver, '#login-submit')
    wait(driver, lambda d: 'refused' in text(d, '#login-error'),
         what='the refusal')
    assert driver.execute_script(
        'return sessionStorage.length') == 0
    # The right one: the API asks Keystone for a token.
    _fill(driver, 'alpha-member', keystone_server.password('alpha-member'),
          'alpha')
    click(driver, '#login-submit')
    shown(driver, '#page-servers')
    assert 'member' in text(driver, '#who-name')
    assert not by_id(driver, 'nav-hosts').is_displayed()
    # Signed out, then in again with a token pasted.
    click(driver, '#logout')
    shown(driver, '#login-token').send_keys(
        keystone.token('alpha-reader'))
    click(driver, '#token-submit')
    shown(driver, '#page-servers')
    assert '(reader)' in text(driver, '#who-name')
    assert driver.execute_script('return sessionStorage.length') == 1
