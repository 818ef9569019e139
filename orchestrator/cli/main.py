"""orchestrator: the user CLI of the orchestrator's API.

    orchestrator server create NAME --flavor F --image I [--wait] ...
    orchestrator server list|show|delete ...
    orchestrator server stop|start|reboot|...|live-migrate SERVER [--wait]
    orchestrator flow list|show|watch ...

Every command that prints data takes ``-f json``; every command that
starts an operation takes ``--wait`` (a live display until it ends) and
``--timeout``. The exit codes are :mod:`orchestrator.cli.exits`'.
"""

import argparse
import sys

from orchestrator.cli import api as cli_api
from orchestrator.cli import config
from orchestrator.cli import exits
from orchestrator.cli import flows
from orchestrator.cli import server_actions
from orchestrator.cli import servers

DESCRIPTION = ('The orchestrator\'s user CLI: servers and every action on '
               'them, with live progress (--wait), and the flows of '
               'operations.')
EPILOG = exits.HELP + """

credentials: --url (or ORCHESTRATOR_URL) with ORCHESTRATOR_TOKEN, or
ORCHESTRATOR_USER and ORCHESTRATOR_PASSWORD (none for noauth); or
--os-cloud (or OS_CLOUD) naming a cloud of clouds.yaml, as openstackclient."""


class _Parser(argparse.ArgumentParser):
    """Usage errors exit with :data:`exits.USAGE` (argparse's 2 too)."""


def build_parser():
    parser = _Parser(prog='orchestrator', description=DESCRIPTION,
                     epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    config.add_arguments(parser)
    top = parser.add_subparsers(dest='resource', required=True,
                                metavar='{server,flow}')
    server = top.add_parser(
        'server', help='servers and their actions', epilog=exits.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = server.add_subparsers(dest='command', required=True,
                                  metavar='COMMAND')
    servers.register(verbs)
    server_actions.register(verbs)
    flow = top.add_parser(
        'flow', help='the flows of operations (console API)',
        epilog=exits.HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    flow_verbs = flow.add_subparsers(dest='command', required=True,
                                     metavar='COMMAND')
    flows.register(flow_verbs)
    return parser


def main(argv=None, out=None):
    """Run one command; returns its exit code (see
    :mod:`orchestrator.cli.exits`). ``out`` is where data goes (default
    stdout); errors go to stderr as one line."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        api = cli_api.Api(config.connect(args))
        return args.func(api, args, out)
    except exits.CliError as e:
        sys.stderr.write('error: %s\n' % e)
        return e.code
    except KeyboardInterrupt:
        sys.stderr.write('interrupted (the operation goes on)\n')
        return 130
