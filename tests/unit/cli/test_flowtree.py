"""A flow's tree in the terminal: states, durations, attempts,
failures; the current step and the share done."""

import io

from orchestrator.cli import flowtree
from orchestrator.cli import output


def _task(name, state, **kw):
    node = {'kind': 'task', 'name': name, 'state': state,
            'attempts': None, 'duration_s': None, 'failure': None,
            'retry': None, 'children': []}
    node.update(kw)
    return node


def _flow(state='RUNNING', final=False):
    retry = dict(_task('hosts', 'running', attempts=2), kind='retry')
    tree = {'kind': 'linear', 'name': 'orchestrator-boot-server',
            'state': None, 'retry': None, 'children': [
                _task('ServerToErrorOnRevert', 'success', duration_s=0.01),
                {'kind': 'linear', 'name': 'schedule-and-spawn',
                 'state': None, 'retry': retry, 'children': [
                     _task('Spawn', 'failure', attempts=1,
                           failure='InjectedFault: spawn on compute-1'),
                     _task('Network', 'reverted', duration_s=12.34)]},
                _task('MarkActive', 'pending')]}
    return {'uuid': 'f' * 32, 'name': 'orchestrator-boot-server',
            'state': state, 'instance': 'i-1', 'instance_name': 'vm1',
            'final': final, 'tree': tree}


def _text(renderable):
    out = io.StringIO()
    output.make_console(out).print(renderable)
    return out.getvalue()


def test_render_shows_every_step_with_its_state_and_details():
    text = _text(flowtree.render(_flow()))
    lines = text.splitlines()
    assert 'orchestrator-boot-server  RUNNING' in lines[0]
    assert 'server vm1 (i-1)' in lines[0]
    step = [line for line in lines if 'Spawn' in line][0]
    assert '✘ Spawn  failure' in step
    assert 'InjectedFault: spawn on compute-1' in text
    assert [line for line in lines if 'Network' in line][0].endswith(
        '↩ Network  reverted  12.3s')
    assert 'retry hosts  running  attempts 2' in text
    assert '· MarkActive  pending' in text
    # The retry comes before the steps it controls.
    assert text.index('retry hosts') < text.index('Spawn')


def test_current_step_prefers_the_step_at_work():
    flow = _flow()
    assert flowtree.current_step(flow['tree']) == 'hosts (running)'
    flow['tree']['children'][1]['retry']['state'] = 'success'
    assert flowtree.current_step(flow['tree']) == 'Spawn (failure)'


def test_current_step_after_the_last_done_step_and_none_at_the_end():
    tree = {'kind': 'linear', 'name': 'f', 'children': [
        _task('A', 'success'), _task('B', 'pending')]}
    assert flowtree.current_step(tree) == 'after A'
    tree['children'][1]['state'] = 'success'
    assert flowtree.current_step(tree) == ''
    assert flowtree.current_step(None) == ''


def test_fraction_done_counts_finished_steps():
    # 5 steps: retry running, success, failure, reverted, pending.
    assert flowtree.fraction_done(_flow()['tree']) == 3 / 5
    assert flowtree.fraction_done({'kind': 'linear', 'children': []}) == 0


def test_seconds_for_people():
    assert [flowtree.seconds(v) for v in (None, 0.4211, 12.34, 123)] == [
        '', '0.42s', '12.3s', '2m03s']


def test_states_in_taskflows_capitals_count_as_well():
    tree = {'kind': 'linear', 'name': 'f', 'children': [
        _task('A', 'SUCCESS'), _task('B', 'RUNNING'), _task('C', None)]}
    assert flowtree.current_step(tree) == 'B (running)'
    assert flowtree.fraction_done(tree) == 1 / 3
    text = _text(flowtree.render({'name': 'f', 'state': 'RUNNING',
                                  'uuid': 'u', 'tree': tree}))
    assert '✔ A  success' in text and '▶ B  running' in text
    assert '· C  pending' in text
