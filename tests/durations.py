"""Longest tests first: the order xdist hands tests out in.

xdist gives each worker the next tests of the collection order as it
finishes its last ones, so a long test collected late becomes the run's
tail: the other workers have finished and wait for it. This plugin moves
the tests that ran long last time (``tests/durations.json``) to the front,
longest first; every other test keeps its collection order after them
(the order module-scoped fixtures are shared in).

``pytest --record-durations=PATH`` writes the file: each test that took
at least :data:`RECORDED_AT_LEAST` seconds (setup, call and teardown
together), with its seconds. ``make durations`` runs the whole suite so.
A test missing from the file (new, renamed, or short) is simply not
moved; a stale file makes a worse order, never a wrong result.
"""

import json
import os

#: Seconds a test must take to be recorded (and so moved to the front).
RECORDED_AT_LEAST = 3.0

DEFAULT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            'durations.json')


def pytest_addoption(parser):
    group = parser.getgroup('durations order')
    group.addoption(
        '--record-durations', metavar='PATH', default=None,
        help='write the tests that took at least %.0f s, with their '
             'seconds, to PATH (JSON)' % RECORDED_AT_LEAST)
    group.addoption(
        '--no-longest-first', action='store_true', default=False,
        help='keep the collection order (do not move the tests of '
             'tests/durations.json to the front)')


def load(path=DEFAULT_PATH):
    """{test node id: seconds} from ``path`` ({} when it is missing or
    unreadable)."""
    try:
        with open(path) as f:
            found = json.load(f)
    except (OSError, ValueError):
        return {}
    return {k: float(v) for k, v in found.items()
            if isinstance(v, (int, float))}


def longest_first(items, seconds):
    """``items`` reordered: those in ``seconds`` first, longest first (ties
    in collection order), then the others in collection order."""
    position = {id(item): n for n, item in enumerate(items)}
    known = [item for item in items if item.nodeid in seconds]
    known.sort(key=lambda item: (-seconds[item.nodeid],
                                 position[id(item)]))
    rest = [item for item in items if item.nodeid not in seconds]
    return known + rest


def pytest_collection_modifyitems(config, items):
    if config.getoption('no_longest_first'):
        return
    seconds = load()
    if seconds:
        items[:] = longest_first(items, seconds)


class Recorder(object):
    """Sums each test's setup, call and teardown; writes the long ones.

    It runs where the reports arrive: in the xdist controller, or in the
    only process without xdist.
    """

    def __init__(self, path):
        self.path = path
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        self.seconds[report.nodeid] = (
            self.seconds.get(report.nodeid, 0.0) + report.duration)

    def pytest_sessionfinish(self, session):
        long_ones = {nodeid: round(s, 1)
                     for nodeid, s in self.seconds.items()
                     if s >= RECORDED_AT_LEAST}
        with open(self.path, 'w') as f:
            json.dump(dict(sorted(long_ones.items(),
                                  key=lambda kv: (-kv[1], kv[0]))),
                      f, indent=0)
            f.write('\n')


def pytest_configure(config):
    path = config.getoption('record_durations')
    is_worker = hasattr(config, 'workerinput')
    if path and not is_worker:
        config.pluginmanager.register(Recorder(path), 'record-durations')
