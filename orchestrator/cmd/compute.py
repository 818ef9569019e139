"""``orchestrator-compute``: the compute agent of one host, as a daemon.

Serves ``[DEFAULT] host`` with the driver ``[compute] driver`` on the
broker of ``[DEFAULT] transport_url`` until SIGTERM or SIGINT, then stops
cleanly (requests in progress finish, calls hanging in the driver are
woken). An in-memory transport is refused with a clear message: a separate
process on it could never reach a conductor.
"""

import signal
import sys
import threading

from oslo_log import log as logging

from orchestrator.cmd import bootstrap
from orchestrator.compute import service as compute_service
from orchestrator import exception
from orchestrator import rpc

LOG = logging.getLogger(__name__)


def _stop_on_signals(stop_requested):
    def handler(signum, frame):
        LOG.info('Received %s, stopping', signal.Signals(signum).name)
        stop_requested.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)


def main(argv=None):
    """Run the agent; returns the exit status (0 after a clean stop)."""
    conf = bootstrap.parse_config(sys.argv[1:] if argv is None else argv,
                                  'Orchestrator compute agent')
    rpc.init(conf, allow_in_memory=False)
    stop_requested = threading.Event()
    _stop_on_signals(stop_requested)
    try:
        service = compute_service.ComputeService.from_conf(conf)
    except exception.Invalid as e:
        rpc.cleanup()
        raise SystemExit('orchestrator-compute: %s' % e) from e
    try:
        service.start()
        while not stop_requested.wait(1.0):
            pass
    finally:
        service.stop()
        rpc.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
