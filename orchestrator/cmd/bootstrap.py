"""What every daemon does first: options, logging, database, RPC."""

import signal
import threading

from oslo_config import cfg
from oslo_log import log as logging

from orchestrator import conf as orch_conf
from orchestrator import rpc
from orchestrator.db import session

LOG = logging.getLogger(__name__)


def parse_config(argv, description=None, cli_opts=()):
    """Register every option, parse ``argv`` and set up oslo.log."""
    conf = cfg.CONF
    orch_conf.register_all(conf)
    logging.register_options(conf)
    if cli_opts:
        conf.register_cli_opts(cli_opts)
    conf(argv, project='orchestrator', description=description)
    logging.setup(conf, 'orchestrator')
    return conf


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
