"""The order tests/durations.py gives the suite: the recorded long tests
first, longest first, the others after them in collection order."""

import json

from tests import durations


class Item(object):
    def __init__(self, nodeid):
        self.nodeid = nodeid


def test_recorded_tests_come_first_longest_first_the_rest_keep_order():
    items = [Item(n) for n in 'abcdef']
    seconds = {'e': 30.0, 'b': 4.0, 'd': 30.0, 'zz-gone': 99.0}
    order = [i.nodeid for i in durations.longest_first(items, seconds)]
    # d and e tie: collection order between them.
    assert order == ['d', 'e', 'b', 'a', 'c', 'f']


def test_a_missing_or_broken_file_changes_nothing(tmp_path):
    assert durations.load(str(tmp_path / 'missing.json')) == {}
    broken = tmp_path / 'broken.json'
    broken.write_text('{not json')
    assert durations.load(str(broken)) == {}
    mixed = tmp_path / 'mixed.json'
    mixed.write_text(json.dumps({'a': 5, 'b': 'x', 'c': 3.5}))
    assert durations.load(str(mixed)) == {'a': 5.0, 'c': 3.5}


def test_the_recorder_keeps_only_long_tests_with_setup_and_teardown(
        tmp_path):
    class Report(object):
        def __init__(self, nodeid, duration):
            self.nodeid, self.duration = nodeid, duration

    path = tmp_path / 'durations.json'
    recorder = durations.Recorder(str(path))
    for nodeid, phases in {'long': (1.0, 1.5, 1.0), 'short': (0.1, 2.0, 0.1),
                           'longest': (0.0, 9.04, 0.0)}.items():
        for phase in phases:
            recorder.pytest_runtest_logreport(Report(nodeid, phase))
    recorder.pytest_sessionfinish(session=None)
    written = json.loads(path.read_text())
    assert written == {'longest': 9.0, 'long': 3.5}
    assert list(written) == ['longest', 'long']
