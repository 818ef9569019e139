"""The web console in a real browser: Debian's chromium, headless, driven
by Selenium through Debian's chromedriver (nothing is downloaded),
against one real all-in-one per module (``orchestrator-allinone`` in a
subprocess) with ``[api] auth_strategy = http_basic`` and the users of
:data:`USERS`.

Without chromium, chromedriver or selenium the tests skip, and fail under
``CI=true`` (``.ci/run`` installs chromium). Screenshots go to the
directory of the environment variable ``TEST_ARTIFACTS`` (default
``./test-artifacts/screenshots``); ``make console-screenshots`` points it
at ``docs/screenshots``.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import requests

from orchestrator.api import auth_basic
from orchestrator.compute.drivers import fake_faults

from tests.conftest import service_missing
from tests.crash import harness
from tests import keystone_server
from tests.functional.systems import free_port
from tests.waiting import wait_for

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
HOSTS = 2
#: user -> (password, project, roles): an administrator of project A, a
#: member (and reader) of project B.
USERS = {
    'ada': ('ada-secret-pw', 'project-a', ['admin', 'member', 'reader']),
    'ben': ('ben-secret-pw', 'project-b', ['member', 'reader']),
}
#: Seconds a wait in the browser may take.
WAIT_S = 30


def artifacts_dir():
    """Where screenshots go (created)."""
    path = os.environ.get('TEST_ARTIFACTS') or os.path.join(
        'test-artifacts', 'screenshots')
    os.makedirs(path, exist_ok=True)
    return path


def _missing():
    """Why the browser cannot run, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return '%s is not installed (apt-get install chromium ' \
                   'chromium-driver)' % path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (test-requirements.txt)'
    return None


def _allinone_command():
    """The ``orchestrator-allinone`` script of this interpreter's
    environment, or the module it runs when the script is not there
    (the repository comes first on the child's path either way)."""
    script = os.path.join(os.path.dirname(sys.executable),
                          'orchestrator-allinone')
    if os.access(script, os.X_OK):
        return [script]
    return [sys.executable, '-m', 'orchestrator.cmd.allinone']


class AllInOne:
    """``orchestrator.cmd.allinone`` in a subprocess on a state directory,
    serving HTTP on a free loopback port."""

    def __init__(self, root, api_options=None):
        """``api_options``: the ``[api]`` (and other groups') options,
        {group: {name: value}}; default http_basic with :data:`USERS`."""
        self.root = root
        self.api_options = api_options
        self.state_dir = os.path.join(root, 'state')
        self.users_file = os.path.join(root, 'users')
        self.log_path = os.path.join(root, 'allinone.out')
        self.url = 'http://127.0.0.1:%d' % free_port()
        self.proc = None

    def start(self):
        for name, (password, project, roles) in USERS.items():
            auth_basic.add_user(self.users_file, name, password, project,
                                roles, rounds=4)
        config = os.path.join(self.root, 'browser.conf')
        harness.write_config(config, self.api_options or {'api': {
            'auth_strategy': 'http_basic',
            'http_basic_auth_user_file': self.users_file}})
        with open(self.log_path, 'w') as out:
            self.proc = subprocess.Popen(
                _allinone_command() + [
                 '--config-file', config, '--state-dir', self.state_dir,
                 '--listen', self.url.rsplit('/', 1)[1], '--hosts',
                 str(HOSTS)],
                stdout=out, stderr=subprocess.STDOUT,
                env=harness.child_env(), cwd=harness.REPO_ROOT)
        wait_for(self._serving, timeout=60, interval=0.2,
                 what='the all-in-one to serve (%s)' % self.log_path)

    def _serving(self):
        """True once the API answers (the all-in-one serves it once
        every host registered)."""
        assert self.proc.poll() is None, self.output()
        try:
            return requests.get(self.url + '/', timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def output(self):
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def api(self, user, method, path, **kwargs):
        """A request to the API as ``user`` (of :data:`USERS`)."""
        kwargs.setdefault('timeout', 30)
        headers = kwargs.pop('headers', {})
        headers.setdefault('OpenStack-API-Version', 'compute 2.47')
        return requests.request(method, self.url + path,
                                auth=(user, USERS[user][0]),
                                headers=headers, **kwargs)

    def inject(self, faults):
        """Replace the run-time faults of every fake host."""
        for host in harness.host_names(HOSTS):
            fake_faults.write_runtime_faults(
                os.path.join(self.state_dir, 'fake-hosts'), host, faults)

    def boot(self, user, name):
        """Create a server as ``user``; its id."""
        image = self.api(user, 'GET', '/image/v2/images').json()[
            'images'][0]['id']
        resp = self.api(user, 'POST', '/v2.1/servers', json={'server': {
            'name': name, 'flavorRef': '1', 'imageRef': image,
            'networks': 'none'}})
        assert resp.status_code == 202, resp.text
        return resp.json()['server']['id']

    def status(self, user, server_id):
        resp = self.api(user, 'GET', '/v2.1/servers/' + server_id)
        return resp.json()['server']['status'] if resp.ok else None

    def wait_status(self, user, server_id, status, timeout=WAIT_S):
        wait_for(lambda: self.status(user, server_id) == status,
                 timeout=timeout, interval=0.2,
                 what='server %s %s' % (server_id, status))

    def stop(self):
        keystone_server.stop_process(self.proc, timeout=30)


@pytest.fixture(scope='module')
def browser_ready():
    why = _missing()
    if why:
        service_missing('The browser', why)


@pytest.fixture(scope='module')
def system(browser_ready, tmp_path_factory):
    """The all-in-one every test of a module shares."""
    node = AllInOne(str(tmp_path_factory.mktemp('console')))
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture(scope='module')
def driver(browser_ready):
    """Headless chromium, a fresh profile, nothing from the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix='console-chromium-')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-quic', '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--disable-dev-shm-usage', '--window-size=1440,1000',
                '--user-data-dir=' + profile):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER),
                               options=options)
    browser.set_page_load_timeout(WAIT_S)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
