"""When ``--wait`` says an operation ended, and how; what its display
writes off a terminal."""

import io

from orchestrator.cli import progress
from orchestrator.cli import waiting


def _server(status, task_state=None, fault=None, progress=0):
    server = {'id': 's-1', 'status': status,
              'OS-EXT-STS:task_state': task_state, 'progress': progress}
    if fault:
        server['fault'] = {'message': fault}
    return server


ACTION_START = '2026-12-06T10:00:00.000000'


def _action(finished=True):
    return {'request_id': 'req-1', 'start_time': ACTION_START,
            'finish_time': '2026-12-06T10:00:05.000000' if finished
            else None, 'flow_uuid': 'f-1'}


def _verdict(server, action=None, flow=None, faults=(), **op):
    return waiting.verdict(
        waiting.Operation('s-1', 'req-1', 'stop', **op),
        waiting.Observation(server=server, action=action, flow=flow,
                            faults=list(faults)))


def test_runs_while_a_task_runs_or_the_server_builds():
    assert _verdict(_server('ACTIVE', 'powering-off')) is None
    assert _verdict(_server('BUILD')) is None


def test_runs_until_the_action_finished():
    assert _verdict(_server('SHUTOFF'), _action(finished=False)) is None


def test_done_when_the_flow_succeeded():
    assert _verdict(_server('SHUTOFF'), _action(),
                    {'state': 'SUCCESS'}) == (True, 'stop done: SHUTOFF')


def test_failed_when_the_flow_reverted_with_the_fault_of_this_action():
    faults = [{'message': 'Injected fault in power_off',
               'created': '2026-12-06T10:00:03.000000'},
              {'message': 'an older fault',
               'created': '2026-12-06T09:00:00.000000'}]
    assert _verdict(_server('ACTIVE'), _action(), {'state': 'REVERTED'},
                    faults) == (
        False, 'stop failed: Injected fault in power_off')


def test_without_a_flow_the_status_decides_and_faults_do_not():
    """An abort records a fault on the migration it ends: with no flow
    of its own, the status says how it went."""
    faults = [{'message': 'Live migration m-1 was aborted', 'created':
               '2026-12-06T10:00:01.000000'}]
    assert _verdict(_server('ACTIVE'), _action(), None, faults,
                    expect=('ACTIVE',))[0] is True
    assert _verdict(_server('MIGRATING'), _action(), None, faults,
                    expect=('ACTIVE',))[0] is False


def test_error_is_a_failure_with_the_servers_fault():
    assert _verdict(_server('ERROR', fault='No valid host was found'),
                    expect=('ACTIVE',)) == (
        False, 'stop failed: No valid host was found')


def test_without_the_console_the_status_must_be_as_expected():
    assert _verdict(_server('SHUTOFF'), expect=('SHUTOFF',))[0] is True
    assert _verdict(_server('ACTIVE'), expect=('SHUTOFF',)) == (
        False, 'stop ended in status ACTIVE, not SHUTOFF')


def test_a_delete_ends_when_the_server_is_gone():
    assert _verdict(_server('ACTIVE', 'deleting'), deleting=True) is None
    assert _verdict(None, deleting=True) == (True, 'deleted')
    assert _verdict(_server('SOFT_DELETED'), deleting=True) == (
        True, 'soft-deleted')
    assert _verdict(_server('ERROR', fault='destroy failed'),
                    deleting=True) == (
        False, 'the delete failed: destroy failed')


def test_a_server_that_disappears_fails_any_other_operation():
    assert _verdict(None) == (False, 'the server is gone')


def test_progress_is_the_servers_while_it_makes_some_else_the_flows():
    building = waiting.Observation(server=_server('BUILD', 'spawning',
                                                  progress=40))
    assert building.fraction == 0.4
    tree = {'kind': 'linear', 'children': [
        {'kind': 'task', 'name': 'A', 'state': 'success'},
        {'kind': 'task', 'name': 'B', 'state': 'running'}]}
    stopping = waiting.Observation(server=_server('ACTIVE', 'powering-off'),
                                   flow={'tree': tree, 'final': False})
    assert stopping.fraction == 0.5
    assert stopping.step == 'B (running)'
    assert waiting.Observation(server=_server('ACTIVE')).fraction is None


def test_off_a_terminal_the_display_writes_a_line_per_change():
    out = io.StringIO()
    with progress.Display(out, 'stop vm1 (s-1)') as display:
        display.update(waiting.Observation(
            server=_server('ACTIVE', 'powering-off'), elapsed=0.1))
        display.update(waiting.Observation(server=_server('SHUTOFF'),
                                           elapsed=0.7))
    display.done('stop done: SHUTOFF', True)
    lines = out.getvalue().splitlines()
    assert lines[0] == 'stop vm1 (s-1)'
    assert lines[1].split() == ['0.10s', 'ACTIVE', 'powering-off', '-']
    assert lines[2].split() == ['0.70s', 'SHUTOFF', '-', '-']
    assert lines[3] == 'stop done: SHUTOFF'
