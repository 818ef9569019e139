"""Rules of a server's consoles: its log, and remote console URLs."""

from orchestrator.policies import base

CONSOLE_OUTPUT = 'os_compute_api:os-console-output'
REMOTE_CONSOLES = 'os_compute_api:os-remote-consoles'

_ACTION = '/servers/{server_id}/action (%s)'

#: Server actions that read and change nothing: body key -> rule name.
ACTIONS = {
    'os-getConsoleOutput': CONSOLE_OUTPUT,
    'os-getVNCConsole': REMOTE_CONSOLES,
    'os-getSPICEConsole': REMOTE_CONSOLES,
    'os-getRDPConsole': REMOTE_CONSOLES,
    'os-getSerialConsole': REMOTE_CONSOLES,
}

rules = [
    base.rule(CONSOLE_OUTPUT, base.PROJECT_MEMBER_OR_ADMIN,
              'Show the console log of a server.',
              ('POST', _ACTION % 'os-getConsoleOutput')),
    base.rule(REMOTE_CONSOLES, base.PROJECT_MEMBER_OR_ADMIN,
              'Ask for a remote console of a server.',
              *[('POST', _ACTION % key) for key, name in sorted(
                  ACTIONS.items()) if name == REMOTE_CONSOLES],
              ('POST', '/servers/{server_id}/remote-consoles')),
]


def list_rules():
    return rules
