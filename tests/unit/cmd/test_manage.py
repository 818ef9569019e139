"""orchestrator-manage: db sync / db version / states."""

from oslo_config import cfg
import pytest
import sqlalchemy as sa

from orchestrator import state_docs
from orchestrator.cmd import manage
from orchestrator.db import catalog
from orchestrator.db import models


def _run(*argv):
    """main() on a fresh ConfigOpts (the global CONF stays untouched)."""
    return manage.main(list(argv), conf=cfg.ConfigOpts())


@pytest.fixture
def config_file(tmp_path):
    # The database file sits in a directory db sync has to create.
    db_file = tmp_path / 'state' / 'orchestrator.sqlite'
    path = tmp_path / 'orchestrator.conf'
    path.write_text('[database]\nconnection = sqlite:///%s\n' % db_file)
    return str(path), 'sqlite:///%s' % db_file


def _counts(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            return (c.execute(sa.select(sa.func.count()).select_from(
                        models.Flavor)).scalar_one(),
                    c.execute(sa.select(sa.func.count()).select_from(
                        models.Image)).scalar_one())
    finally:
        engine.dispose()


def test_db_sync_then_version(config_file, capsys):
    path, url = config_file
    assert _run('--config-file', path, 'db', 'sync') == 0
    out = capsys.readouterr().out
    assert manage.head_revision() in out
    assert _counts(url) == (len(catalog.DEFAULT_FLAVORS),
                            len(catalog.DEFAULT_IMAGES))

    assert _run('--config-file', path, 'db', 'version') == 0
    assert capsys.readouterr().out.strip() == manage.head_revision()


def test_db_sync_is_idempotent(config_file, capsys):
    path, url = config_file
    assert _run('--config-file', path, 'db', 'sync') == 0
    assert _run('--config-file', path, 'db', 'sync') == 0
    assert _counts(url) == (len(catalog.DEFAULT_FLAVORS),
                            len(catalog.DEFAULT_IMAGES))


def test_db_version_before_sync_fails_clearly(tmp_path, capsys):
    path = tmp_path / 'orchestrator.conf'
    path.write_text('[database]\nconnection = sqlite:///%s\n'
                    % (tmp_path / 'empty.sqlite'))
    assert _run('--config-file', str(path), 'db', 'version') == 1
    assert 'db sync' in capsys.readouterr().err


def test_db_sync_reports_an_unreachable_database(tmp_path, capsys):
    path = tmp_path / 'orchestrator.conf'
    path.write_text('[database]\nconnection = '
                    'postgresql+psycopg2://nobody@127.0.0.1:1/none\n'
                    'max_retries = 0\n')
    assert _run('--config-file', str(path), 'db', 'sync') == 1
    err = capsys.readouterr().err
    assert err.startswith('orchestrator-manage db sync: '), err


def test_states_prints_the_generated_document(capsys):
    assert _run('states') == 0
    assert capsys.readouterr().out == state_docs.render_markdown()


def test_states_dot(capsys):
    assert _run('states', '--dot') == 0
    assert capsys.readouterr().out == state_docs.render_dot()


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        _run('nonsense')
    assert e.value.code == 2
