"""Printing: a rich table (the default) or JSON (``-f json``).

JSON is written as plain text (indented, keys sorted) so scripts read
it with any parser; tables go through a rich console, coloured on a
terminal and plain, 200 columns wide, anywhere else.
"""

import json

from rich import box
from rich.console import Console
from rich.table import Table

TABLE = 'table'
JSON = 'json'
#: Width of a console that is no terminal (a pipe, a file, a test).
PLAIN_WIDTH = 200

#: Colours of server statuses and flow / step states.
STATE_STYLES = {
    'ACTIVE': 'green', 'ERROR': 'bold red', 'BUILD': 'cyan',
    'SHUTOFF': 'yellow', 'DELETED': 'dim',
    'success': 'green', 'SUCCESS': 'green',
    'running': 'cyan', 'RUNNING': 'cyan',
    'pending': 'dim', 'PENDING': 'dim',
    'failure': 'bold red', 'FAILURE': 'bold red',
    'reverting': 'magenta', 'REVERTING': 'magenta',
    'reverted': 'yellow', 'REVERTED': 'yellow',
    'revert_failure': 'bold red', 'ignore': 'dim',
}


def add_format_argument(parser):
    parser.add_argument('-f', '--format', choices=(TABLE, JSON),
                        default=TABLE,
                        help='output format (default: table)')


def make_console(out):
    """A rich console writing to ``out``."""
    if hasattr(out, 'isatty') and out.isatty():
        return Console(file=out, highlight=False)
    return Console(file=out, width=PLAIN_WIDTH, color_system=None,
                   highlight=False, soft_wrap=False)


def show(out, renderable):
    """Print a rich renderable on ``out``; off a terminal, without the
    blanks rich pads lines with."""
    console = make_console(out)
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    out.write(''.join(line.rstrip() + '\n'
                      for line in captured.get().splitlines()))


def styled(value):
    """``value`` as rich markup text, coloured by :data:`STATE_STYLES`."""
    text = '-' if value is None or value == '' else str(value)
    text = text.replace('[', r'\[')
    style = STATE_STYLES.get(value) if isinstance(value, str) else None
    return '[%s]%s[/]' % (style, text) if style else text


def write_json(out, data):
    out.write(json.dumps(data, indent=2, sort_keys=True, default=str))
    out.write('\n')


def table(out, columns, rows, fmt=TABLE):
    """``rows`` (dicts) as a table of ``columns`` ((heading, key) pairs),
    or as a JSON list of dicts with the columns' keys."""
    if fmt == JSON:
        write_json(out, [{key: row.get(key) for _h, key in columns}
                         for row in rows])
        return
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for heading, _key in columns:
        grid.add_column(heading, overflow='fold')
    for row in rows:
        grid.add_row(*[styled(row.get(key)) for _h, key in columns])
    show(out, grid)


def key_values(out, data, fmt=TABLE):
    """One dict as a two-column table (keys sorted), or as JSON."""
    if fmt == JSON:
        write_json(out, data)
        return
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    grid.add_column('Field')
    grid.add_column('Value', overflow='fold')
    for key in sorted(data):
        value = data[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True)
        grid.add_row(key, styled(value))
    show(out, grid)
