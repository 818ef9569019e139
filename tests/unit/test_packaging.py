"""setup.cfg declares what the deployment and the docs promise."""

import configparser
import glob
import importlib
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

CONSOLE_SCRIPTS = {
    'orchestrator-api': 'orchestrator.cmd.api:main',
    'orchestrator-conductor': 'orchestrator.cmd.conductor:main',
    'orchestrator-compute': 'orchestrator.cmd.compute:main',
    'orchestrator-manage': 'orchestrator.cmd.manage:main',
    'orchestrator-allinone': 'orchestrator.cmd.allinone:main',
    'orchestrator': 'orchestrator.cmd.client:main',
}

PLUGINS = {
    'orchestrator.compute_drivers': {
        'fake': 'orchestrator.compute.drivers.fake:FakeDriver'},
    'orchestrator.jobboards': {
        'sql': 'orchestrator.conductor.jobboard_sql:SQLJobBoard',
        'redis': 'orchestrator.conductor.jobboard_redis:LeasedRedisJobBoard'},
    'taskflow.jobboards': {
        'orchestrator-sql': 'orchestrator.conductor.jobboard_sql:SQLJobBoard'},
    'oslo.config.opts': {
        'orchestrator': 'orchestrator.conf.opts:list_opts'},
}


def _setup_cfg():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(os.path.join(ROOT, 'setup.cfg'))
    return parser


def _entry_points():
    """{group: {name: target}} as written in setup.cfg."""
    out = {}
    for group, block in _setup_cfg().items('entry_points'):
        entries = {}
        for line in block.strip().splitlines():
            name, target = (x.strip() for x in line.split('=', 1))
            entries[name] = target
        out[group] = entries
    return out


def test_console_scripts():
    assert _entry_points()['console_scripts'] == CONSOLE_SCRIPTS


def test_plugin_entry_points():
    declared = _entry_points()
    for group, entries in PLUGINS.items():
        assert declared[group] == entries, group


def test_every_entry_point_target_exists():
    """A renamed module or class would break a console script or a plugin
    only when someone runs it; this finds it now."""
    missing = []
    for group, entries in _entry_points().items():
        for name, target in entries.items():
            module_name, _, attr = target.partition(':')
            try:
                obj = importlib.import_module(module_name)
                for part in attr.split('.'):
                    obj = getattr(obj, part)
            except (ImportError, AttributeError) as e:
                missing.append('%s %s = %s (%s)' % (group, name, target, e))
    assert not missing, 'entry points name missing code:\n' + '\n'.join(
        missing)


def test_packages_and_schema_version_files_are_shipped():
    cfg = _setup_cfg()
    packages = cfg.get('files', 'packages').split()
    assert packages == ['orchestrator', 'flows']
    # The alembic environment is not all Python packages: its template and
    # its revisions (versions/ has no __init__.py) must be package data.
    patterns = cfg.get('files', 'package_data').split('=', 1)[1].split()
    shipped = set()
    for pattern in patterns:
        shipped.update(os.path.relpath(p, os.path.join(ROOT, 'orchestrator'))
                       for p in glob.glob(os.path.join(ROOT, 'orchestrator',
                                                       pattern)))
    versions_dir = os.path.join(ROOT, 'orchestrator', 'db', 'schema_versions')
    needed = {os.path.relpath(p, os.path.join(ROOT, 'orchestrator'))
              for p in glob.glob(os.path.join(versions_dir, 'versions',
                                             '*.py'))}
    needed.add(os.path.join('db', 'schema_versions', 'script.py.mako'))
    # The web console's page, script, styles and icon.
    static = glob.glob(os.path.join(ROOT, 'orchestrator', 'console',
                                    'static', '*'))
    assert len(static) >= 3
    needed.update(os.path.relpath(p, os.path.join(ROOT, 'orchestrator'))
                  for p in static)
    assert len(needed) > 1
    assert needed <= shipped, needed - shipped
    assert not os.path.exists(os.path.join(versions_dir, 'versions',
                                           '__init__.py'))
