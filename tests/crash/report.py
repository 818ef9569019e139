"""The crash suite's report: how many cases ran per flow.

Called from the root ``tests/conftest.py``: under xdist only the
controller writes the terminal summary, and it loads the conftest files
of the paths it was given, not those of every directory below them, so
a hook in ``tests/crash/conftest.py`` would stay silent in ``pytest
tests`` (what ``make test`` runs).
"""

import collections

CASE_TEST = 'tests/crash/test_crash.py::test_crash['


def write_case_counts(terminalreporter):
    """A section with the crash cases that ran, per flow, and how many
    failed; nothing when no case ran."""
    ran = collections.Counter()
    failed = collections.Counter()
    for outcome in ('passed', 'failed', 'error'):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, 'nodeid', '')
            if not nodeid.startswith(CASE_TEST):
                continue
            if getattr(report, 'when', 'call') != 'call' \
                    and outcome == 'passed':
                continue
            flow = nodeid[len(CASE_TEST):].split('/', 1)[0]
            ran[flow] += 1
            if outcome != 'passed':
                failed[flow] += 1
    if not ran:
        return
    terminalreporter.section('crash cases per flow')
    for flow in sorted(ran):
        terminalreporter.write_line('%-22s %4d ran%s' % (
            flow, ran[flow],
            ', %d failed' % failed[flow] if failed[flow] else ''))
    terminalreporter.write_line('%-22s %4d ran, %d failed' % (
        'total', sum(ran.values()), sum(failed.values())))
