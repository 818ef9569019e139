"""Tempest against the all-in-one authenticating with a real Keystone:
the machinery shared by ``make tempest-auth`` (tests/tempest_auth.py),
``make conformance`` (tests/conformance.py) and the CI subset
(tests/functional/test_tempest_subset.py).

:func:`run` starts Keystone (:mod:`tests.keystone_server`, with the
tempest accounts asked for added to its users), then
``orchestrator-allinone`` with ``[api] auth_strategy = keystone`` in a
process of its own, registers its compute and image endpoints in
Keystone's catalog, writes a tempest workspace (tempest.conf: identity
``uri_v3`` at the Keystone, the compute endpoint from the catalog, the
features the API has; accounts.yaml: pre-provisioned credentials), runs
the chosen tests with stestr and reads stestr's subunit stream back into
a :class:`Result`. Everything (logs, tempest.log, the stestr repository)
stays in the work directory.
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

import requests
import yaml

from tests import keystone_server
from tests.functional.systems import free_port

#: [compute-feature-enabled] of tempest.conf: what the API serves.
FEATURES = {
    'resize': True, 'pause': True, 'suspend': True, 'rescue': True,
    'snapshot': True, 'cold_migration': True, 'live_migration': True,
    'shelve': True, 'shelve_migrate': False, 'console_output': True,
    'vnc_console': False, 'spice_console': False, 'serial_console': False,
    'interface_attach': False, 'personality': False, 'config_drive': False,
    'metadata_service': False, 'change_password': True,
    'attach_encrypted_volume': False, 'volume_multiattach': False,
    'disk_config': False, 'enable_instance_password': True,
}

#: The accounts of tempest_auth's default run: alpha's member (primary),
#: beta's member (alternate), alpha's reader, the administrator.
BASE_ACCOUNTS = ('alpha-member', 'beta-member', 'alpha-reader')


def accounts_for(concurrency):
    """Keystone users ({user: (project, role)}) beyond tests/keystone_server's
    for ``concurrency`` tempest workers, and the accounts.yaml names in
    the order tempest should take them.

    Each worker's class may hold a primary member, an alternate (tempest
    takes the first free non-admin account of the file: the members come
    first, so it is a member of another project), a reader and a manager
    of the primary's project and an administrator at once: per worker two
    projects with a member, a manager and a reader each, and an
    administrator.
    """
    users = {}
    members, others, admins = list(BASE_ACCOUNTS[:2]), [BASE_ACCOUNTS[2]], []
    for i in range(1, 2 * concurrency + 1):
        project = 'tempest-%d' % i
        for role in ('member', 'manager', 'reader'):
            users['%s-%s' % (project, role)] = (project, role)
        members.append('%s-member' % project)
        others += ['%s-manager' % project, '%s-reader' % project]
    for i in range(1, concurrency + 1):
        users['tempest-admin-%d' % i] = ('admin', 'admin')
        admins.append('tempest-admin-%d' % i)
    return users, members + others, admins


def _tempest_conf(work, keystone, images, max_microversion):
    lock_dir = os.path.join(work, 'locks')
    os.makedirs(lock_dir, exist_ok=True)
    sections = {
        'DEFAULT': {'log_file': os.path.join(work, 'tempest.log'),
                    'debug': 'true'},
        'oslo_concurrency': {'lock_path': lock_dir},
        # The classes that insist on projects of their own
        # (force_tenant_isolation: the quota tests) create them in
        # Keystone as this administrator; the others take accounts.yaml's.
        'auth': {'use_dynamic_credentials': 'false',
                 'test_accounts_file': os.path.join(work, 'accounts.yaml'),
                 'admin_username': 'admin', 'admin_project_name': 'admin',
                 'admin_password': keystone_server.password('admin'),
                 'admin_domain_name': 'Default',
                 'default_credentials_domain_name': 'Default',
                 'create_isolated_networks': 'false'},
        'identity': {'uri_v3': keystone.url, 'auth_version': 'v3',
                     'region': keystone_server.REGION,
                     'v3_endpoint_type': 'public'},
        'compute': {'image_ref': images[0], 'image_ref_alt': images[1],
                    'flavor_ref': '1', 'flavor_ref_alt': '2',
                    'endpoint_type': 'publicURL',
                    'region': keystone_server.REGION,
                    'min_microversion': '2.1',
                    'max_microversion': max_microversion,
                    'build_timeout': '120', 'build_interval': '1',
                    # The all-in-one runs 3 fake compute hosts: the
                    # multi-node tests (server groups across hosts,
                    # migrations, live migration) run.
                    'min_compute_nodes': '3'},
        'compute-feature-enabled': {k: str(v).lower()
                                    for k, v in FEATURES.items()},
        'service_available': {'nova': 'true', 'glance': 'true',
                              'neutron': 'true', 'cinder': 'false',
                              'swift': 'false'},
        'validation': {'run_validation': 'false'},
    }
    path = os.path.join(work, 'etc', 'tempest.conf')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for section, values in sections.items():
            f.write('[%s]\n' % section)
            f.writelines('%s = %s\n' % item for item in values.items())
    return path


def _write_accounts(work, users, non_admins, admins):
    roles = dict(keystone_server.USERS, **users)
    accounts = []
    for user in non_admins:
        project, role = roles[user]
        accounts.append({'username': user, 'project_name': project,
                         'password': keystone_server.password(user),
                         'roles': [role]})
    for user in ['admin'] + admins:
        accounts.append({'username': user, 'project_name': 'admin',
                         'password': keystone_server.password(user),
                         'roles': ['admin'], 'types': ['admin']})
    with open(os.path.join(work, 'accounts.yaml'), 'w') as f:
        yaml.safe_dump(accounts, f)


class AllInOne:
    """``orchestrator-allinone`` authenticating with ``keystone``."""

    def __init__(self, work, keystone):
        self.dir = os.path.join(work, 'orchestrator')
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.config = os.path.join(self.dir, 'orchestrator.conf')
        lines = ['[api]', 'auth_strategy = keystone', '[keystone_authtoken]']
        lines += ['%s = %s' % item
                  for item in keystone.authtoken_options().items()]
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.proc = None

    def start(self):
        log_path = os.path.join(self.dir, 'allinone.log')
        with open(log_path, 'ab') as log:
            self.proc = subprocess.Popen(
                [sys.executable, '-m', 'orchestrator.cmd.allinone',
                 '--config-file', self.config, '--state-dir',
                 os.path.join(self.dir, 'state'), '--listen',
                 '127.0.0.1:%d' % self.port], stdout=log,
                stderr=subprocess.STDOUT, env=keystone_server.child_env(),
                cwd=self.dir)

        def describe():
            with open(log_path, errors='replace') as f:
                return f.read()[-6000:]
        keystone_server.wait_answering(self.proc, self.url, 90, describe)
        return self

    def stop(self):
        keystone_server.stop_process(self.proc, timeout=60)


def _stestr_conf(work):
    import tempest
    top = os.path.dirname(os.path.dirname(os.path.abspath(
        tempest.__file__)))
    with open(os.path.join(work, '.stestr.conf'), 'w') as f:
        f.write('[DEFAULT]\ntest_path=%s\ntop_dir=%s\n' % (
            os.path.join(top, 'tempest', 'test_discover'), top))


def stestr_bin():
    candidate = os.path.join(os.path.dirname(sys.executable), 'stestr')
    return candidate if os.path.exists(candidate) else shutil.which('stestr')


def missing():
    """Why tempest cannot run here (None when it can)."""
    why = keystone_server.missing()
    if why:
        return why
    try:
        import tempest  # noqa: F401 - only whether it is installed
    except ImportError as e:
        return 'the tempest package is not installed (%s)' % e
    if stestr_bin() is None:
        return 'stestr is not installed'
    return None


def first_error_line(traceback):
    """The exception of a traceback (its last one, with the lines of its
    message) on one line, 300 characters at most: what a test's failure
    says went wrong."""
    lines = [line for line in traceback.splitlines() if line.strip()]
    starts = [i for i, line in enumerate(lines)
              if line.startswith('Traceback')]
    start = starts[-1] + 1 if starts else 0
    while start < len(lines) and lines[start][0].isspace():
        start += 1
    return ' '.join(line.strip() for line in lines[start:])[:300]


class Result:
    """A stestr run read back: ``tests`` is {test id: (status, detail)}
    with status 'success', 'fail' or 'skip' (stestr's names), detail the
    first error line of a failure or a skip's reason."""

    def __init__(self, tests, returncode, output):
        self.tests = tests
        self.returncode = returncode
        self.output = output

    def names(self, status):
        return sorted(t for t, (s, _) in self.tests.items() if s == status)

    @property
    def figures(self):
        return {'passed': len(self.names('success')),
                'failed': len(self.names('fail')),
                'skipped': len(self.names('skip'))}

    @property
    def ok(self):
        return self.returncode == 0 and not self.names('fail') and bool(
            self.tests)


def _read_subunit(stream):
    import subunit
    import testtools

    tests = {}

    def on_test(test):
        status = test['status']
        if status not in ('success', 'fail', 'skip'):
            return
        text = ''
        for key in ('traceback', 'reason'):
            if key in test['details']:
                text = test['details'][key].as_text()
                break
        if status == 'fail':
            text = first_error_line(text)
        else:
            text = text.strip().splitlines()[0][:300] if text.strip() else ''
        # A class whose setup failed is one test, setUpClass (its class),
        # as stestr counts it.
        tests[re.sub(r'\[.*\]$', '', test['id'])] = (status, text)
    case = subunit.ByteStreamToStreamResult(stream, non_subunit_name='stdout')
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        case.run(result)
    finally:
        result.stopTestRun()
    return tests


def run(work, regex, concurrency, exclude_list=None, users=None,
        max_microversion=None):
    """Run the tempest tests matching ``regex`` (stestr) against a new
    Keystone and all-in-one; return a :class:`Result`.

    :param users: None (the base accounts: tempest_auth's) or the
        ``accounts_for(concurrency)`` triple.
    :param max_microversion: tempest's [compute] max_microversion; None:
        the API's own maximum (its version document).
    """
    why = missing()
    if why:
        raise RuntimeError('tempest: %s' % why)
    stestr = stestr_bin()
    extra, non_admins, admins = users or ({}, list(BASE_ACCOUNTS), [])
    keystone = keystone_server.Keystone(os.path.join(work, 'keystone'),
                                        free_port())
    node = None
    try:
        keystone.start()
        keystone.add_users(extra)
        print('Keystone on %s (started in %.1f s, %d users)'
              % (keystone.url, keystone.start_seconds,
                 len(keystone.user_ids)), flush=True)
        node = AllInOne(work, keystone).start()
        keystone.set_endpoint('compute', 'nova', node.url + '/v2.1')
        keystone.set_endpoint('image', 'glance', node.url + '/image')
        # No Neutron here: its catalog entry answers 404 (the API has no
        # /network routes), which tempest's cleanup of the projects it
        # creates (the quota classes) takes as nothing to clean; without
        # an entry it fails on the endpoint missing.
        keystone.set_endpoint('network', 'neutron', node.url + '/network')
        token = keystone.token('alpha-member')
        images = [i['id'] for i in requests.get(
            node.url + '/image/v2/images', timeout=30,
            headers={'X-Auth-Token': token}).json()['images']]
        if max_microversion is None:
            max_microversion = requests.get(
                node.url + '/v2.1', timeout=30,
                headers={'X-Auth-Token': token}).json()['version']['version']
        conf = _tempest_conf(work, keystone, images, max_microversion)
        _write_accounts(work, extra, non_admins, admins)
        _stestr_conf(work)
        env = dict(os.environ, TEMPEST_CONFIG_DIR=os.path.dirname(conf),
                   TEMPEST_CONFIG=os.path.basename(conf),
                   PYTHONWARNINGS='ignore')
        subprocess.run([stestr, 'init'], cwd=work, env=env,
                       capture_output=True)
        print('tempest: %s (workspace %s, concurrency %d, microversions '
              'up to %s)' % (regex, work, concurrency, max_microversion),
              flush=True)
        result = subprocess.run(
            [stestr, 'run', '--concurrency', str(concurrency)]
            + (['--exclude-list', exclude_list] if exclude_list else [])
            + [regex],
            cwd=work, env=env, capture_output=True, text=True)
        output = result.stdout + result.stderr
        with open(os.path.join(work, 'stestr-run.txt'), 'w') as f:
            f.write(output)
        last = subprocess.run([stestr, 'last', '--subunit'], cwd=work,
                              env=env, capture_output=True)
    finally:
        if node is not None:
            node.stop()
        keystone.stop()
    return Result(_read_subunit(io.BytesIO(last.stdout)), result.returncode,
                  output)



def argument_parser(prog, doc, regex, regex_help, concurrency, exclude):
    """The command line both runners share: --regex, --workdir,
    --concurrency, --exclude-list."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split(
        '\n')[0])
    parser.add_argument('--regex', default=regex, help=regex_help)
    parser.add_argument('--workdir', default=None,
                        help='Work directory (default: a new temporary '
                             'one, kept).')
    parser.add_argument('--concurrency', type=int, default=concurrency)
    parser.add_argument('--exclude-list', default=exclude,
                        help='stestr exclude list (default: %(default)s; '
                             'an empty value runs everything).')
    return parser


def workdir(args, prefix):
    """The absolute work directory of ``args`` (created), or a new one."""
    work = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix=prefix))
    os.makedirs(work, exist_ok=True)
    return work
