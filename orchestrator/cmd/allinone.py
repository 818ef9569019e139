"""orchestrator-allinone: the whole system in one process, no servers.

The API, a conductor and N fake compute hosts share one process, a SQLite
database and the in-memory (``kombu+memory``) transport, with the SQL
jobboard. Everything lives under ``--state-dir`` (mode 0700, every file
0600): the database file, each fake host's guests and the key that seals
the rescue passwords in flows (``secrets.key``). The conductor always
has the same name, so after a SIGKILL a new all-in-one on the same state
dir reclaims its jobs at once and resumes every flow that was in flight.

    orchestrator-allinone [--listen 127.0.0.1:8774] [--hosts 3]
                          [--state-dir ./state] [--config-file FILE]

The API authenticates as ``[api] auth_strategy`` says: ``noauth`` by
default, which is fine on the default loopback address and refused
beyond it (:func:`orchestrator.api.auth.check_start`).

Once it serves it prints where the API and the web console are, writes
``STATE_DIR/clouds.yaml`` and prints the first commands to try
(:mod:`orchestrator.cmd.first_minute`; ``--help`` ends with the same
text). What stops a start (a bad option or configuration file, a state
dir that is not a writable directory, an address it cannot listen on, a
database it cannot open, an unusable secrets key or user file) is one
line on stderr and exit status 2, found before any part starts
(:mod:`orchestrator.cmd.start_errors`).
"""

import os
import sys
import threading

from oslo_config import cfg
from oslo_db import exception as db_exception
from oslo_log import log as logging
import sqlalchemy.exc

from orchestrator import rpc
from orchestrator import secret_box
from orchestrator.api import auth
from orchestrator.cmd import bootstrap
from orchestrator.cmd import first_minute
from orchestrator.cmd import start_errors
from orchestrator.compute import service as compute_service
from orchestrator.conductor import service as conductor_service
from orchestrator.db import catalog
from orchestrator.db import models
from orchestrator.db import schema

LOG = logging.getLogger(__name__)

CONDUCTOR_NAME = 'allinone'
DEFAULT_LISTEN = '127.0.0.1:8774'
#: Seconds the start waits for each host's registration.
REGISTER_TIMEOUT_S = 30.0
#: What a database that cannot be opened raises (a driver not installed
#: is an ImportError, a SQLite file that cannot be created an OSError).
DATABASE_ERRORS = (sqlalchemy.exc.SQLAlchemyError, db_exception.DBError,
                   ImportError, OSError)

cli_opts = [
    cfg.StrOpt('listen', default=DEFAULT_LISTEN,
               help='HOST:PORT the API listens on.'),
    cfg.IntOpt('hosts', default=3, min=1, max=64,
               help='Number of fake compute hosts.'),
    cfg.StrOpt('state-dir', default='./state',
               help='Directory of all state (database, fake hosts).'),
]


#: Loggers that warn at every in-memory (kombu+memory) connection about
#: what that transport has no use for (a host name, heartbeats): at
#: ERROR in the all-in-one, so the first screen shows what matters.
IN_MEMORY_NOISE = ('kombu.connection', 'oslo.messaging._drivers.impl_rabbit')


def host_names(count):
    """Names of the fake compute hosts (stable across restarts)."""
    return ['compute-%d' % (i + 1) for i in range(count)]


def parse_listen(value):
    """('host', port) from 'HOST:PORT'; ValueError with a clear message."""
    host, sep, port = value.rpartition(':')
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError('--listen must be HOST:PORT, got %r' % value)
    return host.strip('[]'), int(port)


class AllInOne:
    """Starts and stops every part; usable from tests in-process."""

    def __init__(self, conf, state_dir, listen=DEFAULT_LISTEN, hosts=3,
                 serve_api=True):
        self.conf = conf
        self.state_dir = os.path.abspath(state_dir)
        self.listen = parse_listen(listen)
        self.host_count = hosts
        self.serve_api = serve_api
        self.conductor = None
        self.computes = []
        self.api_server = None

    def configure(self):
        """Point every option at the state dir and in-process services;
        the state dir is its owner's only (0700), and holds the secrets
        key (created 0600 when absent) unless another file is named."""
        conf = self.conf
        bootstrap.secure_process()
        start_errors.check_state_dir(self.state_dir)
        conf.set_override('state_path', self.state_dir)
        secret_box.create_key_file(conf.secrets_key_file)
        secret_box.check(conf)
        if conf.database.connection.startswith('sqlite:////var/lib'):
            conf.set_override('connection', 'sqlite:///%s' % os.path.join(
                self.state_dir, 'orchestrator.sqlite'), group='database')
        conf.set_override('listen_host', self.listen[0], group='api')
        conf.set_override('listen_port', self.listen[1], group='api')

    def start(self):
        """Start every part; the API answers once every host registered.

        :raises start_errors.StartError: the address cannot be bound or
            the database opened (found before any part started).
        """
        self.configure()
        if self.serve_api:
            self._bind_api()
        try:
            self._open_database()
        except BaseException:
            self._unbind_api()
            raise
        bootstrap.init_rpc(self.conf, allow_in_memory=True)
        # The hosts first: the in-memory transport drops a message sent to
        # a host whose RPC server is not listening yet, and a conductor
        # resumes the flows in flight at once (a lost call would time out
        # and fail its step). What the hosts cast to a conductor not yet
        # listening (a heartbeat, a power-state report) is sent again.
        started_at = models.utcnow()
        for host in host_names(self.host_count):
            compute = compute_service.ComputeService.from_conf(self.conf,
                                                               host=host)
            compute.start(heartbeat=False)
            self.computes.append(compute)
        self.conductor = conductor_service.ConductorService(
            self.conf, name=CONDUCTOR_NAME, accepted_not_before=started_at)
        self.conductor.start()
        # NOTE: the API answers only once every host is registered: a
        # build accepted before would find no host and fail.
        for compute in self.computes:
            compute.start_heartbeat()
        for compute in self.computes:
            if not compute.wait_registered(REGISTER_TIMEOUT_S):
                raise RuntimeError('host %s was not registered within %s s'
                                   % (compute.host, REGISTER_TIMEOUT_S))
        if self.api_server is not None:
            self.api_server.start()
        LOG.info('All-in-one serving on http://%s:%d with %d host(s); '
                 'state in %s', self.listen[0], self.listen[1],
                 self.host_count, self.state_dir)

    def _open_database(self):
        try:
            engine = bootstrap.init_database(self.conf)
            schema.db_sync(engine)
            catalog.seed_defaults()
        except DATABASE_ERRORS as e:
            raise start_errors.database_error(
                self.conf.database.connection, e) from None

    def _unbind_api(self):
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None

    def _bind_api(self):
        """Listen before any part starts (a port in use stops the start
        at once); requests wait in the backlog until the hosts are up."""
        from orchestrator.api import app as api_app
        from orchestrator.cmd import api as api_cmd
        from orchestrator.httpd import server as httpd_server
        server = api_cmd.APIServer(
            api_app.build_app(self.conf), self.listen[0], self.listen[1],
            self.conf.api.threads, self.conf.api.backlog,
            httpd_server.Limits.from_conf(self.conf))
        try:
            server.bind()
        except OSError as e:
            raise start_errors.listen_error(self.listen[0], self.listen[1],
                                            e) from None
        self.api_server = server

    @property
    def base_url(self):
        """The URL clients reach the API at."""
        port = self.api_server.port if self.api_server else self.listen[1]
        return first_minute.base_url(self.listen[0], port,
                                     self.conf.api.public_endpoint)

    def write_clouds_yaml(self):
        """Write the state dir's clouds.yaml for this API's strategy;
        returns its path, or None under keystone."""
        username = None
        if self.conf.api.auth_strategy == 'http_basic':
            from orchestrator.api import auth_basic
            username = first_minute.first_username(auth_basic.load_users(
                self.conf.api.http_basic_auth_user_file))
        text = first_minute.clouds_yaml(
            self.base_url, self.conf.api.auth_strategy, username)
        if text is None:
            return None
        return first_minute.write_clouds_yaml(self.state_dir, text)

    def guide(self):
        """What the operator reads once the all-in-one serves."""
        return first_minute.guide(
            self.base_url, os.path.join(self.state_dir,
                                        first_minute.CLOUDS_FILE),
            self.conf.api.auth_strategy)

    def stop(self):
        """The API first (no new requests), then the conductor and the
        hosts together: each waits for its work in progress (a flow's
        call to a host still gets its answer) and for its idle pool
        workers, which take up to a second each to notice."""
        if self.api_server is not None:
            self.api_server.stop()
        parts = self.computes + ([self.conductor] if self.conductor else [])
        stoppers = [threading.Thread(target=part.stop,
                                     name='stop-%s' % getattr(
                                         part, 'host', 'conductor'))
                    for part in parts]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        rpc.cleanup()


def _parse(argv):
    """The parsed configuration; ``--help`` ends with the first-minute
    guide for the defaults.

    :raises start_errors.StartError: a configuration file is missing or
        malformed, or a value has the wrong type.
    """
    try:
        conf = bootstrap.parse_config(argv, 'Orchestrator all-in-one',
                                      cli_opts=cli_opts,
                                      quiet_loggers=IN_MEMORY_NOISE)
    except SystemExit as e:
        if e.code == 0 and ('-h' in argv or '--help' in argv):
            print('\nOnce it serves, with the defaults, it prints:\n\n'
                  + first_minute.default_guide())
        # NOTE: argparse exits 2 on a bad command line, oslo.config 1 on
        # a command-line value out of range (having said which): a bad
        # start is 2 either way.
        raise SystemExit(2 if e.code else 0) from None
    except cfg.Error as e:
        raise start_errors.config_error(e) from None
    start_errors.check_config_values(conf)
    return conf


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf = _parse(argv)
        node = AllInOne(conf, conf.state_dir, conf.listen, conf.hosts)
        auth.check_start(conf, node.listen[0])
        node.start()
        clouds = node.write_clouds_yaml()
    except (ValueError, auth.AuthConfigError, secret_box.SecretsKeyError,
            start_errors.StartError) as e:
        sys.stderr.write('orchestrator-allinone: %s\n' % e)
        return 2
    print('orchestrator all-in-one is serving (hosts: %s; state in %s)\n\n'
          '%s' % (', '.join(host_names(node.host_count)), node.state_dir,
                  node.guide()), flush=True)
    LOG.info('clouds.yaml for openstackclient: %s', clouds)
    bootstrap.wait_for_signal()
    node.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
