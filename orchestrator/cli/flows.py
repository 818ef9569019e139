"""``orchestrator flow list|show|watch``: the flows of operations, from
the console API (``GET /console/api/flows[/{uuid}]``).

A FLOW argument is a flow's uuid (or a unique prefix of 8 characters or
more), or a server's name or id: then the server's newest flow.
"""

import sys
import time

from rich import box
from rich.table import Table

from orchestrator.cli import exits
from orchestrator.cli import flowtree
from orchestrator.cli import output
from orchestrator.cli import progress
from orchestrator.cli import waits

LIST_COLUMNS = (('UUID', 'uuid'), ('Name', 'name'), ('State', 'state'),
                ('Server', 'instance_name'), ('Owner', 'owner'),
                ('Age', 'age'), ('Step', 'step'))
SUCCESS = 'SUCCESS'
FAILED_STATES = ('REVERTED', 'FAILURE')


def resolve(api, ref, all_projects=False):
    """The flow (console API ``flow``) that ``ref`` names."""
    try:
        return api.flow(ref)
    except exits.NotFound as not_a_flow:
        try:
            server = api.find_server(ref)
        except exits.NotFound:
            raise not_a_flow from None
    found = api.flows(state='all', instance=server['id'],
                      all_projects=1 if all_projects else None)
    if not found:
        raise exits.NotFound('server %s has no flow' % server['id'], 404)
    return api.flow(found[-1]['uuid'])


def cmd_list(api, args, out):
    instance = None
    if args.server:
        instance = api.find_server(args.server)['id']
    rows = api.flows(state=args.state, instance=instance,
                     all_projects=1 if args.all_projects else None)
    if args.format == output.JSON:
        output.write_json(out, rows)
        return exits.OK
    for row in rows:
        row['age'] = flowtree.seconds(row.get('age_s'))
    output.table(out, LIST_COLUMNS, rows)
    return exits.OK


def _timeline(flow):
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                 title='timeline', title_justify='left')
    for heading in ('Time', 'Step', 'What', 'Result'):
        grid.add_column(heading)
    for entry in flow.get('timeline') or ():
        grid.add_row(entry.get('time') or '-', entry.get('step') or '-',
                     entry.get('what') or '-',
                     output.styled(entry.get('result')))
    return grid


def _code(flow):
    """The exit code a final flow gives: 0 SUCCESS, 1 failed."""
    return exits.FAILED if flow.get('state') in FAILED_STATES else exits.OK


def cmd_show(api, args, out):
    flow = resolve(api, args.flow, args.all_projects)
    if args.format == output.JSON:
        output.write_json(out, flow)
        return exits.OK
    output.show(out, flowtree.render(flow))
    if args.timeline:
        output.show(out, _timeline(flow))
    return exits.OK


def cmd_watch(api, args, out, interval=0.5):
    flow = resolve(api, args.flow, args.all_projects)
    started = time.monotonic()
    # JSON: the live tree on stderr, the final flow alone on stdout.
    display_out = sys.stderr if args.format == output.JSON else out
    timed_out = False
    with progress.TreeDisplay(display_out) as display:
        while True:
            display.update(flow, time.monotonic() - started)
            if flow.get('final'):
                break
            if time.monotonic() - started >= args.timeout:
                timed_out = True
                break
            time.sleep(interval)
            flow = api.flow(flow['uuid'])
    display.finish(flow)
    if args.format == output.JSON:
        output.write_json(out, flow)
    if timed_out:
        message = ('timed out after %gs: flow %s is %s'
                   % (args.timeout, flow['uuid'], flow.get('state')))
        output.make_console(display_out).print(message)
        return exits.TIMEOUT
    return _code(flow)


def register(subparsers):
    """Add list, show and watch to ``orchestrator flow``."""
    p = subparsers.add_parser('list', help='list flows (in flight or '
                                           'failed by default)')
    p.add_argument('--state', choices=('open', 'failed', 'all'),
                   default=None,
                   help='open: in flight or failed (the default); '
                        'failed; all')
    p.add_argument('--server', help='only the flows of this server (name '
                                    'or id)')
    p.add_argument('--all-projects', action='store_true',
                   help='every project\'s flows (admin)')
    output.add_format_argument(p)
    p.set_defaults(func=cmd_list)

    p = _one_flow_parser(subparsers, 'show', cmd_show,
                         'a flow\'s steps as a tree (states, durations, '
                         'attempts, failures)')
    p.add_argument('--timeline', action='store_true',
                   help='the events of the flow too, oldest first')
    p = _one_flow_parser(subparsers, 'watch', cmd_watch,
                         'a live tree of a flow\'s steps until it is final '
                         '(exit 0 SUCCESS, 1 REVERTED or FAILURE, 3 '
                         'timeout)')
    p.add_argument('--timeout', type=float,
                   default=waits.DEFAULT_TIMEOUT_S, metavar='SECONDS')


def _one_flow_parser(subparsers, name, func, help_):
    """A command on one flow (show, watch) with its common arguments."""
    p = subparsers.add_parser(name, help=help_, description=help_)
    p.add_argument('flow', help='flow uuid (or 8+ character prefix), or a '
                                'server name or id: its newest flow')
    p.add_argument('--all-projects', action='store_true',
                   help='look for the server in every project (admin)')
    output.add_format_argument(p)
    p.set_defaults(func=func)
    return p
