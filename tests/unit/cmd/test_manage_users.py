"""orchestrator-manage users add: the http_basic user file."""

import io
import os
import stat
import subprocess
import sys

import bcrypt
from oslo_config import cfg
import pytest

from orchestrator.api import auth_basic
from orchestrator.cmd import manage

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))


def _add(monkeypatch, *argv, password='s3cret pass', options=()):
    monkeypatch.setattr(sys, 'stdin', io.StringIO(password + '\n'))
    return manage.main(list(options) + ['users', 'add'] + list(argv)
                       + ['--password-stdin'], conf=cfg.ConfigOpts())


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_add_creates_an_owner_only_file_with_a_bcrypt_line(
        tmp_path, monkeypatch, capsys):
    path = tmp_path / 'htpasswd'
    assert _add(monkeypatch, 'alice', '--project', 'alpha', '--roles',
                'Member,reader', '--user-file', str(path)) == 0
    assert capsys.readouterr().out == (
        'User alice (project alpha, roles member,reader) added to %s.\n'
        % path)
    assert _mode(path) == 0o600
    users = auth_basic.load_users(str(path))
    assert users['alice'].project_id == 'alpha'
    assert users['alice'].roles == ('member', 'reader')
    assert bcrypt.checkpw(b's3cret pass', users['alice'].password_hash)
    assert not bcrypt.checkpw(b's3cret', users['alice'].password_hash)
    assert users['alice'].password_hash.startswith(b'$2b$12$')


def test_add_appends_and_makes_the_file_owner_only(tmp_path, monkeypatch):
    path = tmp_path / 'htpasswd'
    path.write_text('# users\nbob:%s:beta:member' % bcrypt.hashpw(
        b'bob-pw', bcrypt.gensalt(4)).decode())
    os.chmod(path, 0o644)
    assert _add(monkeypatch, 'carol', '--project', 'gamma', '--roles',
                'admin', '--user-file', str(path)) == 0
    assert _mode(path) == 0o600
    lines = path.read_text().splitlines()
    assert lines[0] == '# users'
    assert lines[1].startswith('bob:') and lines[2].startswith('carol:')
    assert sorted(auth_basic.load_users(str(path))) == ['bob', 'carol']


def test_add_uses_the_configured_file(tmp_path, monkeypatch):
    path = tmp_path / 'users'
    config = tmp_path / 'orchestrator.conf'
    config.write_text('[api]\nhttp_basic_auth_user_file = %s\n' % path)
    assert _add(monkeypatch, 'dave', '--project', 'delta', '--roles',
                'reader', options=['--config-file', str(config)]) == 0
    assert list(auth_basic.load_users(str(path))) == ['dave']


@pytest.mark.parametrize('argv, password, error', [
    (['alice', '--project', 'alpha', '--roles', 'member'], 'x',
     'ValueError: user alice exists already'),
    (['new', '--project', 'alpha', '--roles', ','], 'x',
     'ValueError: --roles needs at least one role'),
    (['new', '--project', 'alpha', '--roles', 'mem ber'], 'x',
     'the roles of new must be'),
    (['new:x', '--project', 'alpha', '--roles', 'member'], 'x',
     'expected NAME:BCRYPT_HASH'),
    (['new', '--project', 'al pha', '--roles', 'member'], 'x',
     'the project of new is empty or holds white space'),
    (['new', '--project', 'alpha', '--roles', 'member'], '',
     'ValueError: the password is empty'),
    (['new', '--project', 'alpha', '--roles', 'member'], 'p' * 73,
     'the password is longer than 72 bytes'),
])
def test_add_refuses_what_the_file_cannot_hold(tmp_path, monkeypatch,
                                               capsys, argv, password,
                                               error):
    path = tmp_path / 'htpasswd'
    assert _add(monkeypatch, 'alice', '--project', 'alpha', '--roles',
                'member', '--user-file', str(path)) == 0
    before = path.read_text()
    capsys.readouterr()
    assert _add(monkeypatch, *argv, '--user-file', str(path),
                password=password) == 1
    err = capsys.readouterr().err
    assert err.startswith('orchestrator-manage users add: ')
    assert error in err
    assert path.read_text() == before


def test_the_installed_command_reads_the_password_from_stdin(tmp_path):
    path = tmp_path / 'htpasswd'
    result = subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.manage', 'users', 'add',
         'erin', '--project', 'echo', '--roles', 'member,reader',
         '--password-stdin', '--user-file', str(path)],
        input='erin-pw\n', capture_output=True, text=True, timeout=60,
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr
    user = auth_basic.load_users(str(path))['erin']
    assert bcrypt.checkpw(b'erin-pw', user.password_hash)
    assert _mode(path) == 0o600
