"""What every daemon does first: owner-only files and redacted logs,
options, logging, database, RPC, the secrets key."""

import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log as logging

from orchestrator import conf as orch_conf
from orchestrator import file_modes
from orchestrator import redaction
from orchestrator import rpc
from orchestrator import secret_box
from orchestrator.db import session

LOG = logging.getLogger(__name__)


def secure_process():
    """What every service does before anything else: the umask 077
    (whatever it creates is its owner's only) and log records with no
    secret in them (:func:`orchestrator.redaction.install_log_redaction`).
    Idempotent."""
    file_modes.restrict_umask()
    redaction.install_log_redaction()


def _private_log_file(conf):
    """Create the log file owner-only before oslo.log opens it."""
    log_file = conf.log_file
    if log_file and conf.log_dir:
        log_file = os.path.join(conf.log_dir, log_file)
    if log_file:
        file_modes.private_file(log_file)


def parse_config(argv, description=None, cli_opts=(), quiet_loggers=()):
    """:func:`secure_process`, then register every option, parse
    ``argv`` and set up oslo.log.

    :param quiet_loggers: names of loggers whose default level is ERROR
        in this program (added to oslo.log's ``default_log_levels``; a
        configuration file that sets that option decides instead).
    """
    secure_process()
    conf = cfg.CONF
    orch_conf.register_all(conf)
    logging.register_options(conf)
    if quiet_loggers:
        logging.set_defaults(default_log_levels=(
            logging.get_default_log_levels()
            + ['%s=ERROR' % name for name in quiet_loggers]))
    if cli_opts:
        conf.register_cli_opts(cli_opts)
    conf(argv, project='orchestrator', description=description)
    _private_log_file(conf)
    logging.setup(conf, 'orchestrator')
    return conf


def require_secrets_key(conf, program):
    """Exit with a clear message unless ``[DEFAULT] secrets_key_file``
    can be used (the API seals, a conductor opens the rescue password)."""
    try:
        secret_box.check(conf)
    except secret_box.SecretsKeyError as e:
        sys.stderr.write('%s: %s\n' % (program, e))
        raise SystemExit(2) from None


def init_database(conf):
    """Configure this process's engine from ``[database] connection``."""
    return session.configure_from_conf(conf)


def init_rpc(conf, allow_in_memory=False):
    """Create the transport; standalone daemons refuse in-memory ones."""
    return rpc.init(conf, allow_in_memory=allow_in_memory)


def wait_for_signal():
    """Block until SIGTERM or SIGINT; returns the signal's number."""
    received = threading.Event()
    which = []

    def _handler(signum, _frame):
        which.append(signum)
        received.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    while not received.wait(1.0):
        pass
    return which[0]
