"""The tempest harness's own logic (tests/tempest_harness.py,
tests/conformance.py): accounts for N workers, reading stestr's subunit
stream back, the first error line of a failure, the conformance report.
No tempest run here (tests/functional/test_tempest_subset.py runs one).
"""

import io

import pytest
import yaml

from tests import conformance
from tests import keystone_server
from tests import tempest_harness

TRACEBACK = '''Traceback (most recent call last):
  File "tempest/api/compute/servers/test_servers.py", line 40, in test_x
    self.client.update_server(server['id'], name='x')
tempest.lib.exceptions.BadRequest: Bad request
Details: {'code': 400, 'message': "Invalid input for field 'name'"}
'''


def test_first_error_line_is_the_exception_with_its_details():
    line = tempest_harness.first_error_line(TRACEBACK)
    assert line == ("tempest.lib.exceptions.BadRequest: Bad request "
                    "Details: {'code': 400, 'message': \"Invalid input for "
                    "field 'name'\"}")


def test_first_error_line_of_a_chained_exception_is_the_last_one():
    text = TRACEBACK + (
        '\nDuring handling of the above exception, another exception '
        'occurred:\n\nTraceback (most recent call last):\n  File "x", '
        'line 1, in y\n    z()\ntesttools.matchers.MismatchError: 2 != 3\n')
    assert tempest_harness.first_error_line(text) == (
        'testtools.matchers.MismatchError: 2 != 3')
    assert len(tempest_harness.first_error_line('E: ' + 'x' * 999)) == 300


def _stream(events):
    import subunit
    import testtools

    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    for test_id, status, detail in events:
        out.status(test_id=test_id, test_status='inprogress')
        if detail is not None:
            key = 'traceback' if status == 'fail' else 'reason'
            out.status(test_id=test_id, file_name=key,
                       file_bytes=detail.encode(),
                       mime_type='text/plain; charset=utf8', eof=True)
        out.status(test_id=test_id, test_status=status)
    del testtools
    return io.BytesIO(buf.getvalue())


def test_read_subunit_keeps_status_and_first_error_line_per_test():
    tests = tempest_harness._read_subunit(_stream([
        ('tempest.a.B.test_ok[id-1,smoke]', 'success', None),
        ('tempest.a.B.test_bad[id-2]', 'fail', TRACEBACK),
        ('tempest.a.C.test_skip[id-3]', 'skip', 'Shelve is not available.'),
        ('setUpClass (tempest.a.D)', 'fail', TRACEBACK),
    ]))
    assert tests['tempest.a.B.test_ok'] == ('success', '')
    assert tests['tempest.a.B.test_bad'][0] == 'fail'
    assert tests['tempest.a.B.test_bad'][1].startswith(
        'tempest.lib.exceptions.BadRequest')
    assert tests['tempest.a.C.test_skip'] == (
        'skip', 'Shelve is not available.')
    assert tests['setUpClass (tempest.a.D)'][0] == 'fail'
    result = tempest_harness.Result(tests, 1, '')
    assert result.figures == {'passed': 1, 'failed': 2, 'skipped': 1}
    assert not result.ok
    assert tempest_harness.Result(
        {'t': ('success', '')}, 0, '').ok
    # Nothing ran is not a success.
    assert not tempest_harness.Result({}, 0, '').ok


@pytest.mark.parametrize('concurrency', [1, 3])
def test_accounts_for_n_workers(tmp_path, concurrency):
    users, non_admins, admins = tempest_harness.accounts_for(concurrency)
    assert not set(users) & set(keystone_server.USERS)
    assert len(admins) == concurrency
    members = [u for u in non_admins
               if dict(keystone_server.USERS, **users)[u][1] == 'member']
    # Every worker can hold a primary and an alternate member at once.
    assert len(members) >= 2 * concurrency + 1
    # tempest takes the first free non-admin as the alternate: the
    # members come before every reader.
    assert non_admins[:len(members)] == members
    tempest_harness._write_accounts(str(tmp_path), users, non_admins, admins)
    accounts = yaml.safe_load((tmp_path / 'accounts.yaml').read_text())
    assert len(accounts) == len(non_admins) + len(admins) + 1
    for account in accounts:
        assert account['password'] == keystone_server.password(
            account['username'])
        if account['username'] in admins + ['admin']:
            assert account['roles'] == ['admin']
            assert account['types'] == ['admin']
    projects = {a['project_name'] for a in accounts if a['roles'] == [
        'member']}
    assert len(projects) == len(members)


def test_conformance_report_writes_failures_and_the_share(tmp_path):
    result = tempest_harness.Result({
        'tempest.a.B.test_1': ('success', ''),
        'tempest.a.B.test_2': ('success', ''),
        'tempest.a.B.test_3': ('success', ''),
        'tempest.a.B.test_4': ('fail', 'BadRequest: no'),
        'tempest.a.C.test_5': ('skip', 'Shelve is not available.'),
    }, 1, '')
    lines = conformance.report(str(tmp_path), result, 7)
    assert (tmp_path / 'failures.txt').read_text() == (
        'tempest.a.B.test_4\tBadRequest: no\n')
    assert (tmp_path / 'skipped.txt').read_text() == (
        'tempest.a.C.test_5\tShelve is not available.\n')
    assert lines[0] == 'FAILED tempest.a.B.test_4: BadRequest: no'
    assert 'passed 3, failed 1, skipped 1 (tempest), excluded 7' in lines[1]
    assert '75.0% of the non-excluded tests run pass (3 of 4)' in lines[2]
    assert conformance.percentage(
        {'passed': 0, 'failed': 0, 'skipped': 3}) == 0.0


def test_exclusion_list_lines_are_regexes_with_reasons():
    import re
    with open(conformance.EXCLUDED) as f:
        lines = [line for line in f if line.strip()
                 and not line.startswith('#')]
    assert lines
    for line in lines:
        regex, _, reason = line.partition('  # ')
        re.compile(regex.strip())
        assert reason.strip(), line
