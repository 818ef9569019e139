"""A real Keystone for the authentication tests.

:func:`running` (behind the session fixture ``keystone`` of
tests/functional/conftest.py) writes a keystone.conf in a directory of
its own (SQLite database, fernet and credential keys in that directory,
no cache, bcrypt at its lowest cost), runs ``keystone-manage db_sync``,
``fernet_setup``, ``credential_setup`` and ``bootstrap`` (the ``admin``
user and project, the roles admin > manager > member > reader and
service, the identity's public and internal endpoints), serves
Keystone's own WSGI application
(:func:`keystone.server.wsgi.initialize_public_application`) on cheroot
on 127.0.0.1:<free port> in a child process (``python -m
tests.keystone_server CONF PORT``), waits until ``/v3`` answers, and
creates through Keystone's API:

=================  ============  ====================================
user               project       role
=================  ============  ====================================
``admin``          ``admin``     admin (bootstrap; also on the system)
``alpha-member``   ``alpha``     member
``alpha-reader``   ``alpha``     reader
``beta-member``    ``beta``      member
``orchestrator``   ``service``   service (auth_token's own user)
=================  ============  ====================================

Every password is :func:`password` of the user name. The Keystone
package missing is a skip, and a failure under CI=true.

Requests that may write (every method but GET, HEAD and OPTIONS) are
served one at a time (:class:`OneWriterAtATime`): SQLite has one writer,
and Keystone writes even when it only issues a token (the user's
``last_active_at``, on the first login of a day). oslo.db begins every
transaction with an explicit BEGIN, so two such logins at once both hold
a read lock and both want the write lock; SQLite refuses one at once
("database is locked") and Keystone answers 500. A CI run lost the
tempest subset to exactly that (two tempest workers logging in).
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST = '127.0.0.1'
REGION = 'RegionOne'
DOMAIN = 'default'
#: {user: (project, role)} created after bootstrap.
USERS = {
    'alpha-member': ('alpha', 'member'),
    'alpha-reader': ('alpha', 'reader'),
    'beta-member': ('beta', 'member'),
    'orchestrator': ('service', 'service'),
}
PROJECTS = ('alpha', 'beta', 'service')
SERVICE_USER = 'orchestrator'
#: Seconds Keystone may take to answer after its process started.
START_TIMEOUT_S = 90

CONF_TEMPLATE = """\
[DEFAULT]
log_file = {dir}/keystone.log
[database]
connection = sqlite:///{dir}/keystone.sqlite
[fernet_tokens]
key_repository = {dir}/fernet-keys
[fernet_receipts]
key_repository = {dir}/fernet-keys
[credential]
key_repository = {dir}/credential-keys
[cache]
enabled = false
[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = 4
"""


def password(user):
    """The password of a user of the test Keystone."""
    return '%s-secret' % user


def _bin(name):
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else shutil.which(name)


def missing():
    """Why no Keystone can run here (None when it can)."""
    try:
        import keystone  # noqa: F401 - only whether it is installed
    except ImportError as e:
        return 'the keystone package is not installed (%s)' % e
    if _bin('keystone-manage') is None:
        return 'keystone-manage is not installed'
    return None


def child_env():
    """The environment of a child process running this checkout's code."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    return env


def wait_answering(proc, url, timeout, describe):
    """Poll ``url`` until it answers 200.

    :param describe: ``() -> str``, what to say (logs) if ``proc`` exits
        or ``timeout`` seconds pass first (RuntimeError).
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError('%s exited with %s:\n%s' % (
                proc.args[0], proc.returncode, describe()))
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError('%s did not answer within %d s:\n%s' % (
                url, timeout, describe()))
        time.sleep(0.1)


def stop_process(proc, timeout=15):
    """SIGTERM, then SIGKILL after ``timeout`` seconds (None: nothing)."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Keystone:
    """A Keystone serving in a child process; see the module docstring.

    :ivar url: ``http://127.0.0.1:<port>/v3``, the identity endpoint.
    :ivar start_seconds: how long :meth:`start` took.
    """

    def __init__(self, directory, port):
        self.dir = str(directory)
        self.port = port
        self.url = 'http://%s:%d/v3' % (HOST, port)
        self.config = os.path.join(self.dir, 'keystone.conf')
        self.proc = None
        self.start_seconds = None
        self.project_ids = {}
        self.user_ids = {}
        self._admin_token = None

    # -- setting up ------------------------------------------------------

    def _manage(self, *args):
        return subprocess.Popen(
            [_bin('keystone-manage'), '--config-file', self.config]
            + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=child_env(), cwd=self.dir)

    @staticmethod
    def _finish(proc, what):
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            raise RuntimeError('keystone-manage %s failed (%d):\n%s' % (
                what, proc.returncode, out.decode(errors='replace')[-4000:]))

    def _setup_and_serve(self):
        """db_sync and the key setups side by side, then bootstrap while
        the server process starts (it needs the keys at start, the
        database only from its first request); returns once /v3
        answers."""
        owner = ['--keystone-user', str(os.getuid()),
                 '--keystone-group', str(os.getgid())]
        first = [(self._manage('fernet_setup', *owner), 'fernet_setup'),
                 (self._manage('credential_setup', *owner),
                  'credential_setup'),
                 (self._manage('db_sync'), 'db_sync')]
        for proc, what in first:
            self._finish(proc, what)
        bootstrap = self._manage(
            'bootstrap', '--bootstrap-password', password('admin'),
            '--bootstrap-region-id', REGION,
            '--bootstrap-public-url', self.url,
            '--bootstrap-internal-url', self.url)
        self._spawn_server()
        self._finish(bootstrap, 'bootstrap')
        self._wait_serving()

    def _spawn_server(self):
        log = open(os.path.join(self.dir, 'server.log'), 'ab')
        try:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'tests.keystone_server', self.config,
                 str(self.port)], stdout=log, stderr=subprocess.STDOUT,
                env=child_env(), cwd=ROOT)
        finally:
            log.close()

    def _wait_serving(self):
        wait_answering(self.proc, self.url, START_TIMEOUT_S, self.log)

    def start(self):
        started = time.monotonic()
        os.makedirs(self.dir, exist_ok=True)
        with open(self.config, 'w') as f:
            f.write(CONF_TEMPLATE.format(dir=self.dir))
        self._setup_and_serve()
        self._provision()
        self.start_seconds = time.monotonic() - started
        return self

    def stop(self):
        stop_process(self.proc)

    def log(self):
        texts = []
        for name in ('server.log', 'keystone.log'):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors='replace') as f:
                    texts.append('--- %s\n%s' % (name, f.read()[-6000:]))
        return '\n'.join(texts)

    # -- Keystone's API --------------------------------------------------

    def _call(self, method, path, expect, body=None):
        resp = requests.request(
            method, self.url + path, json=body, timeout=30,
            headers={'X-Auth-Token': self._admin_token})
        if resp.status_code not in expect:
            raise RuntimeError('Keystone %s %s: %d %s' % (
                method, path, resp.status_code, resp.text[:2000]))
        return resp.json() if resp.content else None

    def _provision(self):
        self._admin_token = self.token('admin', system=True)
        self.project_ids = {
            p['name']: p['id']
            for p in self._call('GET', '/projects', (200,))['projects']}
        self.add_users(USERS, projects=PROJECTS)

    def add_users(self, users, projects=()):
        """Create ``users`` ({user: (project, role)}, password
        :func:`password` of the name), each with its role on its project;
        the projects (and ``projects``) are created if missing."""
        roles = {r['name']: r['id']
                 for r in self._call('GET', '/roles', (200,))['roles']}
        for name in list(projects) + [p for p, _ in users.values()]:
            if name not in self.project_ids:
                self.project_ids[name] = self._call(
                    'POST', '/projects', (201,), {
                        'project': {'name': name, 'domain_id': DOMAIN}
                    })['project']['id']
        for user, (project, role) in users.items():
            project_id = self.project_ids[project]
            user_id = self._call('POST', '/users', (201,), {'user': {
                'name': user, 'domain_id': DOMAIN,
                'password': password(user),
                'default_project_id': project_id}})['user']['id']
            self._call('PUT', '/projects/%s/users/%s/roles/%s' % (
                project_id, user_id, roles[role]), (204,))
            self.user_ids[user] = user_id

    def token(self, user, project=None, system=False):
        """A new token of ``user`` (password auth), scoped to the system
        or to ``project`` (by default the user's own project)."""
        if system:
            scope = {'system': {'all': True}}
        else:
            project = project or USERS.get(user, ('admin',))[0]
            scope = {'project': {'name': project,
                                 'domain': {'id': DOMAIN}}}
        resp = requests.post(self.url + '/auth/tokens', timeout=30, json={
            'auth': {'identity': {'methods': ['password'], 'password': {
                'user': {'name': user, 'domain': {'id': DOMAIN},
                         'password': password(user)}}},
                'scope': scope}})
        if resp.status_code != 201:
            raise RuntimeError('Keystone refused a token to %s: %d %s' % (
                user, resp.status_code, resp.text[:2000]))
        return resp.headers['X-Subject-Token']

    def set_endpoint(self, service_type, name, url):
        """Make ``url`` the public endpoint of ``service_type`` in the
        catalog (the service is created on first use)."""
        services = self._call('GET', '/services?type=%s' % service_type,
                              (200,))['services']
        if services:
            service_id = services[0]['id']
        else:
            service_id = self._call('POST', '/services', (201,), {
                'service': {'type': service_type, 'name': name}
            })['service']['id']
        endpoints = self._call(
            'GET', '/endpoints?service_id=%s&interface=public' % service_id,
            (200,))['endpoints']
        if endpoints:
            self._call('PATCH', '/endpoints/%s' % endpoints[0]['id'],
                       (200,), {'endpoint': {'url': url}})
        else:
            self._call('POST', '/endpoints', (201,), {'endpoint': {
                'service_id': service_id, 'interface': 'public',
                'region_id': REGION, 'url': url}})

    def authtoken_options(self):
        """``[keystone_authtoken]`` of a service checking tokens here."""
        return {
            'www_authenticate_uri': self.url,
            'auth_url': self.url,
            'auth_type': 'password',
            'username': SERVICE_USER,
            'password': password(SERVICE_USER),
            'user_domain_id': DOMAIN,
            'project_name': USERS[SERVICE_USER][0],
            'project_domain_id': DOMAIN,
        }


def running(directory, port):
    """Yield a started :class:`Keystone`; stop it afterwards."""
    server = Keystone(directory, port)
    try:
        yield server.start()
    finally:
        server.stop()


class OneWriterAtATime(object):
    """WSGI middleware: requests that may write the database run one at a
    time; reads run concurrently. See the module's docstring for why."""

    READS = frozenset(('GET', 'HEAD', 'OPTIONS'))

    def __init__(self, application):
        self.application = application
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get('REQUEST_METHOD') in self.READS:
            return self.application(environ, start_response)
        with self.lock:
            # The body is produced inside the lock: Keystone's answers are
            # small, and its writes may happen while they are built.
            result = self.application(environ, start_response)
            try:
                return list(result)
            finally:
                if hasattr(result, 'close'):
                    result.close()


def serve(config, port):
    """The child process: Keystone's WSGI application on cheroot until
    SIGTERM."""
    from cheroot import wsgi

    os.environ['OS_KEYSTONE_CONFIG_FILES'] = config
    # Keystone parses the command line too: leave it only the program.
    del sys.argv[1:]
    from keystone.server import wsgi as keystone_wsgi
    application = keystone_wsgi.initialize_public_application()
    server = wsgi.Server((HOST, port), OneWriterAtATime(application),
                         numthreads=8)

    def _stop(_signum, _frame):
        threading.Thread(target=server.stop).start()
    signal.signal(signal.SIGTERM, _stop)
    server.start()


if __name__ == '__main__':
    serve(sys.argv[1], int(sys.argv[2]))
