"""``make tempest-auth``: tempest's compute API tests that need real,
non-admin identities, against the all-in-one authenticating with a real
Keystone.

    python -m tests.tempest_auth [--regex REGEX] [--workdir DIR]
                                 [--concurrency N]

It starts Keystone (:mod:`tests.keystone_server`: projects alpha and
beta with their members), then ``orchestrator-allinone`` with ``[api]
auth_strategy = keystone`` in a process of its own, registers its compute
endpoint in Keystone's catalog, writes a tempest workspace (tempest.conf:
identity ``uri_v3`` at the Keystone, the compute endpoint from the
catalog, the features the API has; accounts.yaml: pre-provisioned
credentials: alpha-member the primary, alpha-reader the project reader,
beta-member the alternate, admin the administrator), runs the chosen
classes with stestr and prints the tempest figures: passed, failed,
skipped. The exit status is 0 when nothing failed. Everything (logs,
tempest.log, the stestr repository) stays in the work directory (a new
temporary one by default).

Not part of ``make test``: tempest's classes take minutes.
"""

import argparse
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

#: The classes run by default: those with a second project (alternate
#: credentials), and the negative ones of a member.
DEFAULT_CLASSES = (
    'tempest.api.compute.servers.test_servers_negative.'
    'ServersNegativeTestMultiTenantJSON',
    'tempest.api.compute.servers.test_servers_negative.'
    'ServersNegativeTestJSON',
    'tempest.api.compute.servers.test_list_servers_negative.'
    'ListServersNegativeTestJSON',
    'tempest.api.compute.servers.test_instance_actions_negative.'
    'InstanceActionsNegativeTestJSON',
    'tempest.api.compute.servers.test_instance_actions.'
    'InstanceActionsTestJSON',
    'tempest.api.compute.servers.test_server_rescue_negative.'
    'ServerRescueNegativeTestJSON',
    'tempest.api.compute.flavors.test_flavors_negative.'
    'FlavorsV2NegativeTestJSON',
    'tempest.api.compute.admin.test_servers_negative.'
    'ServersAdminNegativeTestJSON',
    'tempest.api.compute.servers.test_list_server_filters.'
    'ListServerFiltersTestJSON',
    'tempest.api.compute.images.test_images_negative.'
    'ImagesNegativeTestJSON',
)

#: [compute-feature-enabled] of tempest.conf: what the API serves.
FEATURES = {
    'resize': True, 'pause': True, 'suspend': True, 'rescue': True,
    'snapshot': True, 'cold_migration': True, 'live_migration': True,
    'shelve': False, 'shelve_migrate': False, 'console_output': False,
    'vnc_console': False, 'spice_console': False, 'serial_console': False,
    'interface_attach': False, 'personality': False, 'config_drive': False,
    'metadata_service': False, 'change_password': False,
    'attach_encrypted_volume': False, 'volume_multiattach': False,
    'disk_config': False, 'enable_instance_password': True,
}


def _tempest_conf(work, keystone, images):
    lock_dir = os.path.join(work, 'locks')
    os.makedirs(lock_dir, exist_ok=True)
    sections = {
        'DEFAULT': {'log_file': os.path.join(work, 'tempest.log'),
                    'debug': 'true'},
        'oslo_concurrency': {'lock_path': lock_dir},
        'auth': {'use_dynamic_credentials': 'false',
                 'test_accounts_file': os.path.join(work, 'accounts.yaml'),
                 'default_credentials_domain_name': 'Default',
                 'create_isolated_networks': 'false'},
        'identity': {'uri_v3': keystone.url, 'auth_version': 'v3',
                     'region': keystone_server.REGION,
                     'v3_endpoint_type': 'public'},
        'compute': {'image_ref': images[0], 'image_ref_alt': images[1],
                    'flavor_ref': '1', 'flavor_ref_alt': '2',
                    'endpoint_type': 'publicURL',
                    'region': keystone_server.REGION,
                    'min_microversion': '2.1', 'max_microversion': '2.79',
                    'build_timeout': '120', 'build_interval': '1'},
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


def _accounts(work):
    """Pre-provisioned credentials: the primary and alternate members of
    two projects, a reader, the administrator."""
    accounts = []
    for user in ('alpha-member', 'beta-member', 'alpha-reader'):
        project, role = keystone_server.USERS[user]
        accounts.append({'username': user, 'project_name': project,
                         'password': keystone_server.password(user),
                         'roles': [role]})
    accounts.append({'username': 'admin', 'project_name': 'admin',
                     'password': keystone_server.password('admin'),
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


def _figures(output):
    """{'passed': n, 'failed': n, 'skipped': n} of stestr's totals."""
    found = {}
    for name in ('Passed', 'Failed', 'Skipped'):
        match = re.search(r'^ - %s: (\d+)$' % name, output, re.M)
        found[name.lower()] = int(match.group(1)) if match else 0
    return found


#: Tests left out, each with the reason (an API feature this service does
#: not have yet): stestr's exclude list, one regular expression a line.
EXCLUDED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'tempest_auth_excluded.txt')


def run(work, regex, concurrency, exclude_list=EXCLUDED):
    stestr = os.path.join(os.path.dirname(sys.executable), 'stestr')
    if not os.path.exists(stestr):
        stestr = shutil.which('stestr')
    why = keystone_server.missing()
    if why or stestr is None:
        raise SystemExit('tempest-auth: %s' % (why or 'stestr is missing'))
    keystone = keystone_server.Keystone(os.path.join(work, 'keystone'),
                                        free_port())
    node = None
    try:
        keystone.start()
        print('Keystone on %s (started in %.1f s)'
              % (keystone.url, keystone.start_seconds), flush=True)
        node = AllInOne(work, keystone).start()
        keystone.set_endpoint('compute', 'nova', node.url + '/v2.1')
        keystone.set_endpoint('image', 'glance', node.url + '/image')
        token = keystone.token('alpha-member')
        images = [i['id'] for i in requests.get(
            node.url + '/image/v2/images', timeout=30,
            headers={'X-Auth-Token': token}).json()['images']]
        conf = _tempest_conf(work, keystone, images)
        _accounts(work)
        _stestr_conf(work)
        env = dict(os.environ, TEMPEST_CONFIG_DIR=os.path.dirname(conf),
                   TEMPEST_CONFIG=os.path.basename(conf),
                   PYTHONWARNINGS='ignore')
        subprocess.run([stestr, 'init'], cwd=work, env=env,
                       capture_output=True)
        print('tempest: %s (workspace %s)' % (regex, work), flush=True)
        result = subprocess.run(
            [stestr, 'run', '--concurrency', str(concurrency)]
            + (['--exclude-list', exclude_list] if exclude_list else [])
            + [regex],
            cwd=work, env=env, capture_output=True, text=True)
        with open(os.path.join(work, 'stestr-run.txt'), 'w') as f:
            f.write(result.stdout + result.stderr)
    finally:
        if node is not None:
            node.stop()
        keystone.stop()
    figures = _figures(result.stdout)
    failed = [line.split('...')[0].strip()
              for line in result.stdout.splitlines()
              if line.rstrip().endswith('... FAILED')]
    for name in failed:
        print('FAILED %s' % name)
    print('tempest-auth: passed %(passed)d, failed %(failed)d, skipped '
          '%(skipped)d' % figures)
    return 0 if figures['failed'] == 0 and result.returncode == 0 else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog='tempest-auth',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--regex', default='(%s)' % '|'.join(
        re.escape(c) for c in DEFAULT_CLASSES),
        help='The tests to run (stestr regex); default: the multi-tenant '
             'and negative classes.')
    parser.add_argument('--workdir', default=None,
                        help='Work directory (default: a new temporary '
                             'one, kept).')
    # NOTE: one worker: each class holds a primary, a reader and an
    # alternate account while it runs, and there are three.
    parser.add_argument('--concurrency', type=int, default=1)
    parser.add_argument('--exclude-list', default=EXCLUDED,
                        help='stestr exclude list (default: %(default)s; '
                             'an empty value runs everything).')
    args = parser.parse_args(argv)
    work = os.path.abspath(args.workdir or tempfile.mkdtemp(
        prefix='tempest-auth-'))
    os.makedirs(work, exist_ok=True)
    return run(work, args.regex, args.concurrency, args.exclude_list)


if __name__ == '__main__':
    sys.exit(main())
