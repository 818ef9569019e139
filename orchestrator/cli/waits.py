"""``--wait`` and ``--timeout`` on a command, and what a command prints
once its request is accepted (with or without waiting)."""

import sys

from orchestrator.cli import output
from orchestrator.cli import progress
from orchestrator.cli import waiting

DEFAULT_TIMEOUT_S = 600.0


def add_arguments(parser):
    parser.add_argument(
        '--wait', action='store_true',
        help='show live progress until the operation ends (exit 0 done as '
             'asked, 1 failed, 3 timed out)')
    parser.add_argument(
        '--timeout', type=float, default=DEFAULT_TIMEOUT_S,
        metavar='SECONDS',
        help='how long --wait waits (default %g)' % DEFAULT_TIMEOUT_S)


def wait(api, args, op, out):
    """Wait for ``op`` with a live display (on stderr when the output is
    JSON, so stdout stays one document), then print how it ended: one
    line, or with ``-f json`` ``{"result", "message", "server",
    "flow_uuid"}``. Returns the exit code."""
    display_out = sys.stderr if args.format == output.JSON else out
    with progress.Display(display_out, op.title()) as display:
        code, obs, message = waiting.wait(api, op, args.timeout,
                                          display.update)
    if args.format == output.JSON:
        output.write_json(out, {
            'result': {0: 'done', 1: 'failed', 3: 'timeout'}.get(code),
            'message': message, 'server': obs.server,
            'flow_uuid': (obs.action or {}).get('flow_uuid')})
        if code != 0:
            sys.stderr.write('error: %s\n' % message)
    else:
        display.done(message, code == 0)
    return code


def accepted(api, args, op, out, extra=None):
    """After a request the API accepted: wait if asked, else print what
    was accepted (``extra``: more fields to show, e.g. an image id)."""
    if args.wait:
        return wait(api, args, op, out)
    shown = {'server': op.server_id, 'action': op.what,
             'request_id': op.request_id}
    shown.update(extra or {})
    if args.format == output.JSON:
        output.write_json(out, shown)
    else:
        out.write('%s: accepted (request %s)\n' % (
            op.title(), op.request_id or '-'))
        for key in sorted(extra or {}):
            out.write('%s: %s\n' % (key, extra[key]))
    return 0
