"""The live display of ``--wait`` and ``flow watch``.

On a terminal, a rich :class:`~rich.live.Live` redraws in place: the
server's status and task state, the flow's current step and a progress
bar (the server's progress while it makes some, else the share of the
flow's steps done). Anywhere else (a pipe, a log, a test) it writes one
plain line each time what it shows changes, so the story stays readable
afterwards.
"""

from rich.console import Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from orchestrator.cli import flowtree
from orchestrator.cli import output


def status_line(obs):
    """The plain one-line form of an observation."""
    fraction = obs.fraction
    return ('%7s  %-13s %-20s %-40s %s' % (
        flowtree.seconds(obs.elapsed), obs.status, obs.task_state or '-',
        obs.step or '-', '' if fraction is None else
        '%3d%%' % int(fraction * 100))).rstrip()


def _panel(title, obs):
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style='dim')
    grid.add_column()
    grid.add_row('status', Text(obs.status, style=output.STATE_STYLES.get(
        obs.status, 'bold')))
    grid.add_row('task', obs.task_state or '-')
    grid.add_row('step', obs.step or '-')
    fraction = obs.fraction
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=100, completed=int((fraction or 0) * 100),
                            width=40, pulse=fraction is None),
                '' if fraction is None else '%d%%' % int(fraction * 100),
                Text(flowtree.seconds(obs.elapsed), style='dim'))
    grid.add_row('progress', bar)
    return Group(Text(title, style='bold'), grid)


class _LiveOnTerminal:
    """A context manager holding a rich Live when ``out`` is a terminal
    (``self.live``), None elsewhere."""

    def __init__(self, out):
        self.out = out
        self.console = output.make_console(out)
        self.live = (Live(console=self.console, auto_refresh=False)
                     if self.console.is_terminal else None)

    def __enter__(self):
        if self.live is not None:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.__exit__(*exc)


class Display(_LiveOnTerminal):
    """Shows observations of one operation titled ``title`` on ``out``;
    a context manager."""

    def __init__(self, out, title):
        super().__init__(out)
        self.title = title
        if self.live is None:
            self.console.print(title)

    def update(self, obs):
        if self.live is not None:
            self.live.update(_panel(self.title, obs), refresh=True)
        else:
            self.console.print(status_line(obs), soft_wrap=True)

    def done(self, message, ok):
        """The last line: how it ended."""
        self.console.print(Text(message, style='green' if ok else 'red'),
                           soft_wrap=True)


class TreeDisplay(_LiveOnTerminal):
    """Shows a flow's tree as it changes (``flow watch``): redrawn in
    place on a terminal; elsewhere a line per change of the current
    step, and the whole tree at the end."""

    def __init__(self, out):
        super().__init__(out)
        self.last = None

    def update(self, flow, elapsed):
        if self.live is not None:
            self.live.update(flowtree.render(flow), refresh=True)
            return
        line = '%7s  %-10s %s' % (flowtree.seconds(elapsed),
                                  flow.get('state'),
                                  flowtree.current_step(flow.get('tree'))
                                  or '-')
        if line.split(None, 1)[1] != self.last:
            self.console.print(line)
            self.last = line.split(None, 1)[1]

    def finish(self, flow):
        if self.live is None:
            output.show(self.out, flowtree.render(flow))
