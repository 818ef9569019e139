"""Idle CPU and RSS of each process: what the orchestrator's processes
cost while nothing is asked of them.

Figures, per process (its own threads, not its children):

``cpu_percent_of_core``
    The CPU time (user + system, from ``/proc/<pid>/stat``) the process
    used during the measurement, as a percentage of the wall time: 100
    is one core busy all along.
``rss_mib``
    Its resident set size (``VmRSS`` of ``/proc/<pid>/status``) at the
    end of the measurement, in MiB.

Linux only (reads ``/proc``); starts nothing: give it the pids.

    .venv/bin/python -m benchmarks.idle [--seconds 10] NAME=PID...
"""

import argparse
import os
import time

#: Clock ticks per second, the unit of utime and stime in /proc/<pid>/stat.
CLK_TCK = os.sysconf('SC_CLK_TCK')


class ProcessGone(RuntimeError):
    """A measured process ended before the measurement did."""


def _read_proc(pid, name):
    try:
        with open('/proc/%d/%s' % (pid, name)) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone('process %d is gone' % pid) from None


def cpu_seconds(pid):
    """CPU time (user + system) ``pid`` has used so far, in seconds;
    its threads count, its children do not."""
    stat = _read_proc(pid, 'stat')
    # The command name (field 2) is in parentheses and may itself hold
    # spaces and parentheses: count fields from the last ')'. There,
    # field 3 (state) is index 0, utime (14) is 11 and stime (15) is 12.
    fields = stat[stat.rindex(')') + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid):
    """Resident set size of ``pid`` now (VmRSS), in MiB."""
    for line in _read_proc(pid, 'status').splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024.0  # given in kB
    raise ProcessGone('process %d has no memory (a zombie?)' % pid)


def measure(pids, seconds=10):
    """{name: {'cpu_percent_of_core', 'rss_mib'}} of the processes
    ``pids`` ({name: pid}) over ``seconds`` of wall time, during which
    this function only sleeps."""
    start_cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    start = time.monotonic()
    time.sleep(seconds)
    end_cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    elapsed = time.monotonic() - start
    return {name: {'cpu_percent_of_core':
                   100.0 * (end_cpu[name] - start_cpu[name]) / elapsed,
                   'rss_mib': rss_mib(pid)}
            for name, pid in pids.items()}


def format_table(figures):
    """The figures as a text table, one line per process."""
    width = max([len('process')] + [len(name) for name in figures])
    lines = ['%s  %19s  %8s' % ('process'.ljust(width),
                                'cpu_percent_of_core', 'rss_mib')]
    for name, values in figures.items():
        lines.append('%s  %19.2f  %8.1f' % (
            name.ljust(width), values['cpu_percent_of_core'],
            values['rss_mib']))
    return '\n'.join(lines)


def _name_pid(text):
    name, sep, pid = text.rpartition('=')
    if not sep or not name or not pid.isdigit():
        raise argparse.ArgumentTypeError('expected NAME=PID, got %r' % text)
    return name, int(pid)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seconds', type=float, default=10.0,
                        help='how long to measure (default 10)')
    parser.add_argument('processes', nargs='+', type=_name_pid,
                        metavar='NAME=PID')
    args = parser.parse_args(argv)
    try:
        figures = measure(dict(args.processes), args.seconds)
    except ProcessGone as e:
        parser.exit(1, 'idle: %s\n' % e)
    print(format_table(figures))


if __name__ == '__main__':
    main()
