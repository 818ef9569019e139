"""``orchestrator-manage``: administrative commands.

::

    orchestrator-manage [--config-file FILE] db sync
    orchestrator-manage [--config-file FILE] db version
    orchestrator-manage states [--dot]
    orchestrator-manage failpoints
    orchestrator-manage flows list [--all]
    orchestrator-manage flows show FLOW_ID
    orchestrator-manage flows retry FLOW_ID
    orchestrator-manage flows revert FLOW_ID
    orchestrator-manage users add NAME --project P --roles R[,R...]
                                  [--password-stdin] [--user-file FILE]
    orchestrator-manage secrets create-key
    orchestrator-manage secrets scrub

``db sync`` creates or upgrades the whole schema (TaskFlow's logbook tables,
then ours) on ``[database] connection`` and seeds the default flavors and
images; it is idempotent. ``db version`` prints our schema's alembic
revision. ``states`` prints the allowed-actions table, the status map and
the vm_state machine (``--dot``: only the Graphviz dot of the machine).
``failpoints`` lists every failpoint name (:mod:`orchestrator.failpoints`).
``flows list`` shows the flows in flight or failed (``--all``: every
flow) with the conductor owning each, its age and current step; ``flows
show`` every step of one flow (an id prefix of 8+ characters will do)
with its state, timing and result or failure (:mod:`orchestrator.
flow_views`). ``flows retry`` and ``flows revert`` repair a failed flow
(:mod:`orchestrator.flow_repair`): audited, no database edit by hand.
``users add`` appends a user of ``[api] auth_strategy = http_basic`` to
``[api] http_basic_auth_user_file`` (or ``--user-file``) with a bcrypt
hash of the password, read from stdin with ``--password-stdin`` (its
first line) or asked twice on the terminal; the file is kept owner-only
(:mod:`orchestrator.api.auth_basic`). ``secrets create-key`` creates
``[DEFAULT] secrets_key_file`` (mode 0600) with a new key if it is
missing: copy that one file to every API and conductor host
(:mod:`orchestrator.secret_box`). ``secrets scrub`` takes out of the
database the tokens and clear rescue passwords an older version kept in
flows, jobs and accepted requests (:mod:`orchestrator.secret_scrub`).
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
from orchestrator import file_modes
from orchestrator import state_docs

LOG = logging.getLogger(__name__)

_SCHEMA_VERSIONS_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    'db', 'schema_versions')


def head_revision():
    """The newest revision our schema versions define."""
    scripts = alembic_script.ScriptDirectory(_SCHEMA_VERSIONS_DIR)
    return scripts.get_current_head()


def _ensure_sqlite_dir(connection):
    """Create the directory of a SQLite file database if it is missing."""
    url = sa.engine.make_url(connection)
    if url.get_backend_name() != 'sqlite':
        return
    if url.database in (None, '', ':memory:'):
        return
    file_modes.make_dirs(os.path.dirname(os.path.abspath(url.database)))


def sync_database(conf):
    """Bring the schema of ``conf.database.connection`` up to date and seed
    the default catalog. Safe to run any number of times.

    Services that create their own database (the all-in-one) may call this
    instead of shelling out to ``orchestrator-manage db sync``.

    :returns: our schema's revision after the sync.
    """
    # Imported here: `states` must work without a database driver.
    from orchestrator.db import catalog
    from orchestrator.db import schema
    from orchestrator.db import session

    _ensure_sqlite_dir(conf.database.connection)
    engine = session.configure_from_conf(conf)
    schema.db_sync(engine)
    catalog.seed_defaults()
    return schema.current_revision(engine)


def do_db_sync(conf):
    revision = sync_database(conf)
    print('Database schema is at revision %s.' % revision)
    return 0


def do_db_version(conf):
    from orchestrator.db import schema
    from orchestrator.db import session

    engine = session.configure_from_conf(conf)
    revision = schema.current_revision(engine)
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
    from orchestrator.compute import manager as compute_manager

    from flows import catalog

    for name in failpoints.names(
            catalog.all_flow_modules(),
            compute_manager.ComputeManager.rpc_methods()):
        sys.stdout.write(name + '\n')
    return 0


def _flow_sources(conf):
    """(persistence, jobboard or None) on the configured database."""
    from taskflow.persistence.backends import impl_sqlalchemy

    from orchestrator.conductor import jobboards
    from orchestrator.db import session

    engine = session.configure_from_conf(conf)
    persistence = impl_sqlalchemy.SQLAlchemyBackend({}, engine=engine)
    try:
        board = jobboards.fetch(conf, persistence)
    except Exception as e:  # noqa: BLE001 - listing works without owners
        LOG.warning('Jobboard unavailable (%s); owners not shown', e)
        board = None
    return persistence, board


def _age(seconds):
    if seconds is None:
        return '-'
    seconds = int(seconds)
    if seconds < 120:
        return '%ds' % seconds
    if seconds < 7200:
        return '%dm' % (seconds // 60)
    return '%dh' % (seconds // 3600)


def _repair(conf, persistence, board):
    from orchestrator import context as orch_context
    from orchestrator import flow_repair

    if board is None:
        raise RuntimeError('the jobboard is unavailable: a repair posts a '
                           'job for a conductor to run')
    ctxt = orch_context.get_admin_context()
    ctxt.user_id = os.environ.get('USER') or 'operator'
    done = flow_repair.repair(persistence, board, conf.command.flow_id,
                              conf.command.flows_command, ctxt)
    sys.stdout.write('%s of flow %s posted as job %s (instance %s); steps '
                     'to run again: %s\n' % (
                         conf.command.flows_command, done['flow'],
                         done['job'], done['instance'],
                         ', '.join(done['steps']) or 'none'))
    return 0


def do_flows(conf):
    from orchestrator import flow_views

    persistence, board = _flow_sources(conf)
    try:
        if conf.command.flows_command in ('retry', 'revert'):
            return _repair(conf, persistence, board)
        if conf.command.flows_command == 'list':
            rows = flow_views.list_flows(persistence, board,
                                         include_all=conf.command.all)
            fmt = '%-36s  %-30s  %-9s  %-36s  %-12s  %5s  %s\n'
            sys.stdout.write(fmt % ('FLOW', 'NAME', 'STATE', 'INSTANCE',
                                    'OWNER', 'AGE', 'STEP'))
            for r in rows:
                sys.stdout.write(fmt % (r['uuid'], r['name'], r['state'],
                                        r['instance'] or '-',
                                        r['owner'] or '-', _age(r['age_s']),
                                        r['step']))
            return 0
        shown = flow_views.show_flow(persistence, conf.command.flow_id,
                                     board)
    finally:
        if board is not None:
            board.close()
    for key in ('uuid', 'name', 'state', 'resume_policy', 'instance',
                'action_id', 'owner', 'job'):
        sys.stdout.write('%-14s %s\n' % (key + ':', shown[key]))
    for step in shown['steps']:
        sys.stdout.write('\n%s  [%s]\n' % (step['name'], step['state']))
        sys.stdout.write('  started %s, finished %s%s\n' % (
            step['start'] or '-', step['finish'] or '-',
            ', reverted %s' % step['revert_finish']
            if step['revert_finish'] else ''))
        for key in ('failure', 'revert_failure'):
            if step[key]:
                sys.stdout.write('  %s: %s\n' % (
                    key.replace('_', ' '),
                    step[key].replace('\n', '\n  ')))
        if step['result'] is not None and not step['failure']:
            sys.stdout.write('  result: %r\n' % (step['result'],))
    return 0


def _read_password(from_stdin):
    """The new user's password: stdin's first line, or asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip('\r\n')
    import getpass
    password = getpass.getpass('Password: ')
    if getpass.getpass('Password again: ') != password:
        raise ValueError('the passwords differ')
    return password


def do_users(conf):
    from orchestrator.api import auth_basic

    cmd = conf.command
    path = cmd.user_file or conf.api.http_basic_auth_user_file
    roles = [r.strip().lower() for r in cmd.roles.split(',') if r.strip()]
    if not roles:
        raise ValueError('--roles needs at least one role')
    auth_basic.add_user(path, cmd.user_name,
                        _read_password(cmd.password_stdin), cmd.project,
                        roles)
    print('User %s (project %s, roles %s) added to %s.'
          % (cmd.user_name, cmd.project, ','.join(roles), path))
    return 0


def do_secrets(conf):
    from orchestrator import secret_box

    if conf.command.secrets_command == 'scrub':
        return _scrub_secrets(conf)
    path = conf.secrets_key_file
    if secret_box.create_key_file(path):
        print('Created %s (mode 0600): give every API and conductor this '
              'same file.' % path)
    else:
        secret_box.check(conf)
        print('%s exists; left as it is.' % path)
    return 0


def _command_group(subparsers, name, help_text, commands):
    """The subparsers of command ``name`` (its subcommand is required and
    lands in ``conf.command.<name>_command``)."""
    group = subparsers.add_parser(name, help=help_text)
    group_commands = group.add_subparsers(
        dest='%s_command' % name, metavar='{%s}' % ','.join(commands))
    group_commands.required = True
    return group_commands


def _scrub_secrets(conf):
    from orchestrator import secret_box
    from orchestrator import secret_scrub
    from orchestrator.db import session

    counts = secret_scrub.scrub(
        session.configure_from_conf(conf),
        seal=lambda password: secret_box.seal(password, conf))
    for document, count in counts.items():
        print('%s: %d rewritten' % (document, count))
    return 0


def _add_parsers(subparsers):
    db_commands = _command_group(subparsers, 'db',
                                 'Database schema commands.',
                                 ('sync', 'version'))
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

    flows_commands = _command_group(
        subparsers, 'flows', 'Flows in flight or failed, and their steps.',
        ('list', 'show', 'retry', 'revert'))
    flows_list = flows_commands.add_parser(
        'list', help='Flows in flight or failed: owner, age, current step.')
    flows_list.add_argument('--all', action='store_true',
                            help='Every flow, finished ones too.')
    flows_list.set_defaults(func=do_flows)
    flows_show = flows_commands.add_parser(
        'show', help='Every step of one flow: state, timing, result or '
                     'failure.')
    flows_show.add_argument('flow_id', help='Flow uuid (or a unique '
                                            'prefix of 8+ characters).')
    flows_show.set_defaults(func=do_flows)
    for verb, text in (('retry', 'Run a failed flow again from its first '
                                 'undone step (audited).'),
                       ('revert', 'Run the failed rollback of a flow again '
                                  '(audited).')):
        repair = flows_commands.add_parser(verb, help=text)
        repair.add_argument('flow_id', help='Flow uuid (or a unique '
                                            'prefix of 8+ characters).')
        repair.set_defaults(func=do_flows)

    users_commands = _command_group(
        subparsers, 'users', 'Users of [api] auth_strategy = http_basic.',
        ('add',))
    users_add = users_commands.add_parser(
        'add', help='Append a user with a bcrypt hash of the password to '
                    'the user file (created owner-only, 0600).')
    users_add.add_argument('user_name', metavar='NAME',
                           help='User name (no colon, no space).')
    users_add.add_argument('--project', required=True,
                           help='Project id of the user.')
    users_add.add_argument('--roles', required=True,
                           help='Comma-separated roles, e.g. member,reader '
                                '(admin makes an administrator).')
    users_add.add_argument('--password-stdin', action='store_true',
                           help='Read the password from the first line of '
                                'stdin instead of asking on the terminal.')
    users_add.add_argument('--user-file', default=None,
                           help='The file to add to (default: [api] '
                                'http_basic_auth_user_file).')
    users_add.set_defaults(func=do_users)

    secrets_commands = _command_group(
        subparsers, 'secrets', 'The key that seals the secrets flows carry, '
                               'and the secrets older versions kept.',
        ('create-key', 'scrub'))
    create_key = secrets_commands.add_parser(
        'create-key', help='Create [DEFAULT] secrets_key_file (0600) with '
                           'a new key, unless it exists.')
    create_key.set_defaults(func=do_secrets)
    scrub = secrets_commands.add_parser(
        'scrub', help='Take out of the database the tokens and clear '
                      'rescue passwords an older version kept (idempotent; '
                      'needs the key to seal the passwords).')
    scrub.set_defaults(func=do_secrets)


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
    elif command == 'flows':
        command += ' ' + conf.command.flows_command
    elif command == 'users':
        command += ' ' + conf.command.users_command
    elif command == 'secrets':
        command += ' ' + conf.command.secrets_command
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
