"""Threads and memory of an all-in-one after 20 and after 200 boot+delete
cycles (issue 10): what a leak per operation would show.

Runs the all-in-one in this process (3 fake hosts, SQLite in a temporary
directory, in-memory transport, no HTTP), boots and deletes servers
through the conductor's RPC API one after the other, and prints after
each checkpoint the thread count (and the names that changed), the RSS
and the TaskFlow table sets alive.

    .venv/bin/python benchmarks/leak_check.py [--first 20] [--total 200]
"""

import argparse
import os
import sys
import tempfile
import time
import pathlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

from orchestrator import conf as orch_conf  # noqa: E402
from tests.functional import leaks  # noqa: E402
from tests.functional.systems import start_all_in_one  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--first', type=int, default=20)
    parser.add_argument('--total', type=int, default=200)
    args = parser.parse_args(argv)
    orch_conf.register_all()
    orch_conf.CONF([], project='orchestrator', default_config_files=[],
                   default_config_dirs=[])
    with tempfile.TemporaryDirectory() as tmp:
        node = start_all_in_one(orch_conf.CONF, pathlib.Path(tmp),
                                serve_api=False)
        try:
            start = time.monotonic()
            baseline = leaks.sample()
            print('start: %d threads, RSS %.1f MiB, %d TaskFlow table sets'
                  % (baseline.threads, baseline.rss_mb, baseline.tables))
            previous, done = None, 0
            for checkpoint in (args.first, args.total):
                while done < checkpoint:
                    leaks.cycle()
                    done += 1
                now = leaks.sample()
                print('after %d cycles (%.0f s): %d threads, RSS %.1f MiB, '
                      '%d TaskFlow table sets'
                      % (done, time.monotonic() - start, now.threads,
                         now.rss_mb, now.tables), flush=True)
                if previous is not None:
                    changed = dict((now.by_name - previous.by_name) +
                                   (previous.by_name - now.by_name))
                    print('  threads vs after %d: %+d (%s); RSS %+.1f MiB '
                          '(%.3f MiB per cycle)'
                          % (args.first, now.threads - previous.threads,
                             changed or 'same names',
                             now.rss_mb - previous.rss_mb,
                             (now.rss_mb - previous.rss_mb) /
                             max(1, done - args.first)))
                previous = now
        finally:
            node.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
