"""``orchestrator-manage``: administrative commands.

::

    orchestrator-manage [--config-file FILE] db sync
    orchestrator-manage [--config-file FILE] db version
    orchestrator-manage states [--dot]
    orchestrator-manage failpoints

``db sync`` creates or upgrades the whole schema (TaskFlow's logbook tables,
then ours) on ``[database] connection`` and seeds the default flavors and
images; it is idempotent. ``db version`` prints our schema's alembic
revision. ``states`` prints the allowed-actions table, the status map and
the vm_state machine (``--dot``: only the Graphviz dot of the machine).
``failpoints`` lists every failpoint name (:mod:`orchestrator.failpoints`).
"""

import logging
import os
import sys
import warnings

from alembic import script as alembic_script
from oslo_config import cfg
from oslo_log import log as oslo_log
import sqlalchemy as sa

from orchestrator import conf as orch_conf
from orchestrator import state_docs

LOG = logging.getLogger(__name__)

_MIGRATIONS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'db', 'migrations')


def head_revision():
    """The newest revision our migrations define."""
    scripts = alembic_script.ScriptDirectory(_MIGRATIONS_DIR)
    return scripts.get_current_head()


def _ensure_sqlite_dir(connection):
    """Create the directory of a SQLite file database if it is missing."""
    url = sa.engine.make_url(connection)
    if url.get_backend_name() != 'sqlite':
        return
    if url.database in (None, '', ':memory:'):
        return
    directory = os.path.dirname(os.path.abspath(url.database))
    os.makedirs(directory, exist_ok=True)


def sync_database(conf):
    """Bring the schema of ``conf.database.connection`` up to date and seed
    the default catalog. Safe to run any number of times.

    Services that create their own database (the all-in-one) may call this
    instead of shelling out to ``orchestrator-manage db sync``.

    :returns: our schema's revision after the sync.
    """
    # Imported here: `states` must work without a database driver.
    from orchestrator.db import catalog
    from orchestrator.db import migration
    from orchestrator.db import session

    _ensure_sqlite_dir(conf.database.connection)
    engine = session.configure_from_conf(conf)
    migration.db_sync(engine)
    catalog.seed_defaults()
    return migration.current_revision(engine)


def do_db_sync(conf):
    revision = sync_database(conf)
    print('Database schema is at revision %s.' % revision)
    return 0


def do_db_version(conf):
    from orchestrator.db import migration
    from orchestrator.db import session

    engine = session.configure_from_conf(conf)
    revision = migration.current_revision(engine)
    if revision is None:
        print('The database has no orchestrator schema yet; run '
              '"orchestrator-manage db sync".', file=sys.stderr)
        return 1
    print(revision)
    head = head_revision()
    if revision != head:
        print('The schema is behind this code (newest revision %s); run '
              '"orchestrator-manage db sync".' % head, file=sys.stderr)
    return 0


def do_states(conf):
    if conf.command.dot:
        sys.stdout.write(state_docs.render_dot())
    else:
        sys.stdout.write(state_docs.render_markdown())
    return 0


def do_failpoints(conf):
    from orchestrator import failpoints
    for name in failpoints.names():
        sys.stdout.write(name + '\n')
    return 0


def _add_parsers(subparsers):
    db = subparsers.add_parser('db', help='Database schema commands.')
    db_commands = db.add_subparsers(dest='db_command',
                                    metavar='{sync,version}')
    db_commands.required = True
    sync = db_commands.add_parser(
        'sync', help='Create or upgrade the schema and seed the defaults '
                     '(idempotent).')
    sync.set_defaults(func=do_db_sync)
    version = db_commands.add_parser(
        'version', help="Print the schema's current revision.")
    version.set_defaults(func=do_db_version)

    states = subparsers.add_parser(
        'states', help='Print the state rules: allowed actions, status map '
                       'and the vm_state machine.')
    states.add_argument('--dot', action='store_true',
                        help='Print only a Graphviz dot of the vm_state '
                             'machine.')
    states.set_defaults(func=do_states)

    fps = subparsers.add_parser(
        'failpoints', help='List every failpoint (crash-test hooks armed '
                           'by ORCHESTRATOR_FAILPOINTS).')
    fps.set_defaults(func=do_failpoints)


COMMAND_OPT = cfg.SubCommandOpt('command', title='Commands',
                                handler=_add_parsers,
                                help='Available commands.')


def main(argv=None, conf=None):
    """Entry point; ``argv`` excludes the program name.

    :param conf: the ConfigOpts to use (tests pass a fresh one); the global
        ``cfg.CONF`` by default.
    :returns: the exit status.
    """
    # TaskFlow probes for eventlet, whose import warns that it is
    # deprecated; we never use it, and an admin tool's stderr is for
    # the admin.
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    conf = orch_conf.CONF if conf is None else conf
    orch_conf.register_all(conf)
    # oslo.log's options (--debug, ...) so that service config files and
    # command lines are accepted as they are; this short-lived tool logs to
    # stderr only, keeping stdout for what it prints.
    oslo_log.register_options(conf)
    conf.register_cli_opt(COMMAND_OPT)
    conf(sys.argv[1:] if argv is None else argv, project='orchestrator',
         prog='orchestrator-manage')
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.WARNING,
        stream=sys.stderr, format='%(levelname)s %(name)s: %(message)s')
    command = conf.command.name
    if command == 'db':
        command += ' ' + conf.command.db_command
    try:
        return conf.command.func(conf)
    except Exception as e:  # noqa: BLE001 - an admin tool reports and exits
        if conf.debug:
            LOG.exception('%s failed', command)
        print('orchestrator-manage %s: %s: %s'
              % (command, type(e).__name__, e), file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
