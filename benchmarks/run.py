"""``make bench`` / ``make bench-smoke``: every benchmark of issue 11 in
one run, one table, one JSON file.

Sections (each in a process of its own, so that one section's
in-process system, configuration and threads never touch another's):

``e2e``
    Boot+delete through HTTP by waiting clients (:mod:`benchmarks.load`)
    at concurrency 1, 10 and 50, on the all-in-one (SQLite, in-memory
    transport) and the distributed system (PostgreSQL, RabbitMQ) with 1
    and 2 conductors. Per system, the concurrency levels run in turn in
    each round (interleaved); figures are medians of the rounds with
    their min and max.
``baseline``
    Stock TaskFlow, one commit, one RPC call, on the same databases and
    transports (:mod:`benchmarks.baseline`).
``sql``
    Statements, commits and rollbacks per boot and per delete, split into
    logbook, jobboard and our tables (:mod:`benchmarks.sql_counts`).
``recovery``
    100 boots in flight, SIGKILL, restart; takeover with two conductors
    (:mod:`benchmarks.recovery`).
``growth``, ``scale``
    History and size (:mod:`benchmarks.growth`, :mod:`benchmarks.scale`).
``idle``
    CPU and RSS of each process of an idle all-in-one and distributed
    system (:mod:`benchmarks.idle`).

The smoke run (``--smoke``, under a minute) keeps the all-in-one e2e at
concurrency 1 and 10, the baseline, the counts and the idle figures,
each in its short form.

    .venv/bin/python -m benchmarks.run [--smoke] [--only e2e,sql,...]
        [--json PATH]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks import stats
from benchmarks import systems

SECTIONS = ('baseline', 'sql', 'e2e', 'idle', 'recovery', 'growth',
            'scale')
SMOKE_SECTIONS = ('baseline', 'sql', 'e2e', 'idle')
DEFAULT_JSON = 'bench-results.json'

#: (concurrency, operations per round) of the e2e section.
E2E_LEVELS = ((1, 20), (10, 60), (50, 150))
E2E_SMOKE_LEVELS = ((1, 5), (10, 20))
E2E_ROUNDS = 3


# -- sections ----------------------------------------------------------------

def _e2e_system(system, levels, rounds):
    """{'c<N>': {figure: summary}} of ``system`` over ``rounds``."""
    system.start()
    try:
        from benchmarks import load
        load.boot_delete(system.url, 1, 2)  # warm-up: images cached
        measures = {
            'c%d' % concurrency: (
                lambda c=concurrency, n=operations:
                load.boot_delete(system.url, c, n))
            for concurrency, operations in levels}
        return stats.interleaved(rounds, measures)
    finally:
        system.stop()


def section_e2e(smoke):
    levels = E2E_SMOKE_LEVELS if smoke else E2E_LEVELS
    rounds = 1 if smoke else E2E_ROUNDS
    out = {'allinone': _e2e_system(systems.AllInOne(), levels, rounds)}
    if not smoke:
        for conductors in (1, 2):
            out['distributed_%dc' % conductors] = _e2e_system(
                systems.Distributed(conductors=conductors), levels, rounds)
    return out


def section_baseline(smoke):
    from benchmarks import baseline
    return baseline.measure(smoke=smoke, pg_url=systems.PG_ADMIN_URL,
                            rabbit_url=systems.RABBIT_URL)


def section_sql(smoke):
    from benchmarks import sql_counts
    found = sql_counts.measure(operations=2 if smoke else 5)
    return {op: found[op] for op in ('boot', 'delete')}


def section_idle(smoke):
    from benchmarks import idle
    seconds = 5 if smoke else 20
    out = {}
    node = systems.AllInOne().start()
    try:
        time.sleep(2)  # past the start's own work
        out['allinone'] = idle.measure(node.pids(), seconds=seconds)
    finally:
        node.stop()
    if not smoke:
        cluster = systems.Distributed(conductors=1).start()
        try:
            time.sleep(2)
            out['distributed'] = idle.measure(cluster.pids(),
                                              seconds=seconds)
        finally:
            cluster.stop()
    return out


def section_recovery(smoke):
    from benchmarks import recovery
    return recovery.measure(smoke=smoke)


def section_growth(smoke):
    from benchmarks import growth
    return growth.measure(smoke=smoke)


def section_scale(smoke):
    from benchmarks import scale
    return scale.measure(smoke=smoke)


# -- running sections in their own processes ---------------------------------

def run_section(name, smoke):
    """Run section ``name`` in a child process; its result, or
    {'error': ...} when it failed."""
    with tempfile.NamedTemporaryFile(suffix='.json') as out:
        args = [sys.executable, '-m', 'benchmarks.run', '--child', name,
                '--json', out.name] + (['--smoke'] if smoke else [])
        started = time.monotonic()
        proc = subprocess.run(args, cwd=systems.ROOT, capture_output=True,
                              text=True)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            return {'error': (proc.stderr or proc.stdout)[-3000:],
                    'seconds': elapsed}
        with open(out.name) as f:
            result = json.load(f)
    result['seconds'] = elapsed
    return result


def _child(name, smoke, path):
    result = globals()['section_' + name](smoke)
    with open(path, 'w') as f:
        json.dump({'figures': result}, f, default=str)


# -- the table ---------------------------------------------------------------

def _cell(value):
    if isinstance(value, float):
        return '%.2f' % value
    return '-' if value is None else str(value)


def rows(results):
    """(section, row, figure, median, min, max) of every figure."""
    out = []

    def walk(section, path, value):
        if isinstance(value, dict) and 'median' in value and \
                'rounds' in value:
            out.append((section, '/'.join(path[:-1]), path[-1],
                        value['median'], value['min'], value['max']))
        elif isinstance(value, dict):
            for key, sub in value.items():
                walk(section, path + [str(key)], sub)
        elif isinstance(value, (int, float)) or value is None:
            out.append((section, '/'.join(path[:-1]),
                        path[-1] if path else '', value, None, None))
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            out.append((section, '/'.join(path[:-1]), path[-1], None,
                        value[0], value[1]))

    for section, result in results.items():
        if 'error' in result:
            out.append((section, 'ERROR', result['error'].splitlines()[-1]
                        if result['error'] else '?', None, None, None))
            continue
        walk(section, [], result['figures'])
    return out


def format_table(results):
    lines = ['%-9s %-34s %-22s %10s %10s %10s' % (
        'section', 'row', 'figure', 'median', 'min', 'max')]
    for section, row, figure, median, low, high in rows(results):
        lines.append('%-9s %-34s %-22s %10s %10s %10s' % (
            section, row[:34], figure[:22], _cell(median), _cell(low),
            _cell(high)))
    return '\n'.join(lines)


def ratios(results):
    """Ratios computed within this run: ours against stock TaskFlow and
    the floors, 2 conductors against 1."""
    out = {}

    def figure(section, *path):
        value = results.get(section, {}).get('figures')
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        if isinstance(value, dict):
            value = value.get('median')
        return value

    boot_ms = figure('e2e', 'allinone', 'c1', 'boot_p50_ms')
    stock_ms = figure('baseline', 'taskflow_flow_sqlite', 'ms_per_flow')
    bare_ms = figure('baseline', 'taskflow_flow_memory', 'ms_per_flow')
    if boot_ms and stock_ms:
        out['allinone boot p50 / stock TaskFlow 7-step flow (SQLite)'] = \
            boot_ms / stock_ms
    if boot_ms and bare_ms:
        out['allinone boot p50 / TaskFlow without persistence'] = \
            boot_ms / bare_ms
    commits = figure('sql', 'boot', 'total', 'commits')
    stock_commits = figure('baseline', 'taskflow_flow_sqlite',
                           'commits_per_flow')
    if commits and stock_commits:
        out['boot commits / stock TaskFlow flow commits'] = \
            commits / stock_commits
    if commits:
        out['boot commits / floor (7 steps)'] = commits / 7.0
    one = figure('e2e', 'distributed_1c', 'c50', 'ops_per_s')
    two = figure('e2e', 'distributed_2c', 'c50', 'ops_per_s')
    if one and two:
        out['distributed c50: 2 conductors / 1'] = two / one
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--smoke', action='store_true',
                        help='the short run (CI)')
    parser.add_argument('--only', default=None,
                        help='comma-separated sections (default: all; '
                             'smoke: %s)' % ','.join(SMOKE_SECTIONS))
    parser.add_argument('--json', default=DEFAULT_JSON,
                        help='where to write the results')
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.smoke, args.json)
        return 0
    names = (args.only.split(',') if args.only
             else SMOKE_SECTIONS if args.smoke else SECTIONS)
    unknown = set(names) - set(SECTIONS)
    if unknown:
        parser.error('unknown sections: %s' % ', '.join(sorted(unknown)))
    results = {}
    for name in names:
        print('running %s ...' % name, file=sys.stderr, flush=True)
        results[name] = run_section(name, args.smoke)
        print('  %s: %.0f s' % (name, results[name]['seconds']),
              file=sys.stderr, flush=True)
    print(format_table(results))
    found = ratios(results)
    if found:
        print()
        for name, value in found.items():
            print('%-60s %8.2f' % (name, value))
    with open(args.json, 'w') as f:
        json.dump({'smoke': args.smoke, 'when': time.strftime(
            '%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'machine': {
                'cpus': os.cpu_count()},
            'results': results, 'ratios': found}, f, indent=1,
            default=str)
    print('\nwritten: %s' % args.json)
    return 1 if any('error' in r for r in results.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
