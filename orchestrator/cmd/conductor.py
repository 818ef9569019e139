"""orchestrator-conductor: RPC endpoints and a TaskFlow conductor."""

import sys

from oslo_log import log as logging

from orchestrator.cmd import bootstrap
from orchestrator.conductor import service

LOG = logging.getLogger(__name__)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    conf = bootstrap.parse_config(argv, 'Orchestrator conductor')
    bootstrap.init_database(conf)
    bootstrap.init_rpc(conf, allow_in_memory=False)
    bootstrap.require_secrets_key(conf, 'orchestrator-conductor')
    conductor = service.ConductorService(conf)
    conductor.start()
    signum = bootstrap.wait_for_signal()
    LOG.info('Signal %s: stopping', signum)
    conductor.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
