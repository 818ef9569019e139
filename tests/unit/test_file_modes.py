"""Owner-only files whatever the umask (orchestrator.file_modes and the
places that create state files: SQLite, the fake host files)."""

import os
import stat

import pytest

from orchestrator import file_modes
from orchestrator.compute.drivers import fake_faults
from orchestrator.compute.drivers import fake_host_file
from orchestrator.db import session


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The umask most shells have: the explicit modes must hold anyway."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_restrict_umask():
    old = os.umask(0o022)
    try:
        assert file_modes.restrict_umask() == 0o022
        assert os.umask(0o022) == 0o077
    finally:
        os.umask(old)


def test_private_dir_creates_and_tightens(tmp_path, loose_umask):
    new = tmp_path / 'a' / 'b'
    file_modes.private_dir(str(new))
    assert _mode(new) == 0o700
    assert _mode(tmp_path / 'a') == 0o700
    old = tmp_path / 'old'
    old.mkdir(mode=0o755)
    os.chmod(old, 0o755)
    file_modes.private_dir(str(old))
    assert _mode(old) == 0o700
    shared = tmp_path / 'shared'
    shared.mkdir()
    os.chmod(shared, 0o1777)
    file_modes.private_dir(str(shared))
    assert _mode(shared) == 0o1777


def test_make_dirs_leaves_existing_directories(tmp_path, loose_umask):
    os.chmod(tmp_path, 0o755)
    file_modes.make_dirs(str(tmp_path / 'x' / 'y'))
    assert _mode(tmp_path) == 0o755
    assert _mode(tmp_path / 'x') == 0o700
    assert _mode(tmp_path / 'x' / 'y') == 0o700


def test_private_and_written_files(tmp_path, loose_umask):
    made = tmp_path / 'made'
    file_modes.private_file(str(made))
    assert _mode(made) == 0o600 and made.read_bytes() == b''
    loose = tmp_path / 'loose'
    loose.write_text('kept')
    os.chmod(loose, 0o644)
    file_modes.private_file(str(loose))
    assert _mode(loose) == 0o600 and loose.read_text() == 'kept'
    with file_modes.open_private(str(tmp_path / 'w')) as f:
        f.write('one')
    with file_modes.open_private(str(tmp_path / 'w'), 'a') as f:
        f.write(' two')
    assert (tmp_path / 'w').read_text() == 'one two'
    assert _mode(tmp_path / 'w') == 0o600


def test_a_sqlite_database_is_created_owner_only(tmp_path, loose_umask):
    path = tmp_path / 'db' / 'orchestrator.sqlite'
    engine = session.configure('sqlite:///%s' % path)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql('CREATE TABLE t (x TEXT)')
            conn.exec_driver_sql("INSERT INTO t VALUES ('a')")
        files = sorted(os.listdir(path.parent))
        assert 'orchestrator.sqlite' in files
        for name in files:  # -wal and -shm take the database's mode
            assert _mode(path.parent / name) == 0o600, name
        assert _mode(path.parent) == 0o700
    finally:
        engine.dispose()


def test_fake_host_files_are_owner_only(tmp_path, loose_umask):
    state_dir = str(tmp_path / 'fake-hosts')
    host_file = fake_host_file.HostFile(state_dir, 'h1')
    with host_file.change() as state:
        state['calls']['spawn'] = 1
    fake_faults.write_runtime_faults(state_dir, 'h1', {'spawn': 'raise'})
    assert _mode(state_dir) == 0o700
    assert sorted(os.listdir(state_dir)) == ['h1.faults.json', 'h1.json',
                                             'h1.lock']
    for name in os.listdir(state_dir):
        assert _mode(os.path.join(state_dir, name)) == 0o600, name
