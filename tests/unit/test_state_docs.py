"""docs/states.md and the rendering it is generated from."""

import os

import pydot
import pytest

from orchestrator import state_docs
from orchestrator import state_machine as sm
from orchestrator import states as s

DOC = os.path.join(os.path.dirname(__file__), '..', '..', 'docs',
                   'states.md')


def test_docs_states_md_is_up_to_date():
    with open(DOC, encoding='utf-8') as f:
        committed = f.read()
    assert committed == state_docs.render_markdown(), (
        'docs/states.md no longer matches orchestrator/state_machine.py: '
        'run "make states-doc" and commit the result')


def test_actions_table_has_a_row_per_action():
    rows = state_docs.action_rows()
    assert [r[0] for r in rows] == sorted(sm.ACTIONS)
    by_name = {r[0]: r for r in rows}
    assert by_name[sm.STOP] == (
        'stop', 'active, error', state_docs.NO_TASK, 'powering-off',
        'stopped', 'no')
    assert by_name[sm.DELETE][1:3] == ('any except deleted',
                                       'any except deleting')
    assert by_name[sm.FORCE_DELETE][3] == '(no claim)'
    assert by_name[sm.EVACUATE][5] == 'yes'
    table = state_docs.render_actions_table()
    assert len(table.splitlines()) == len(sm.ACTIONS) + 2


def test_descriptions_are_exact():
    """Each short description names exactly the set it stands for."""
    for action in sm.ACTIONS.values():
        text = state_docs.describe_vm_states(action.vm_states)
        if text == 'any':
            named = s.VM_STATES
        elif text.startswith('any except '):
            named = s.VM_STATES - set(text[len('any except '):].split(', '))
        else:
            named = set(text.split(', '))
        assert named == action.vm_states, action.name

        text = state_docs.describe_task_states(action.task_states)
        if sm.ANY_TASK in action.task_states:
            assert text.startswith('any (')
            continue
        every = s.TASK_STATES | {None}

        def parse(names):
            return {None if n == state_docs.NO_TASK else n
                    for n in names.split(', ')}
        if text.startswith('any except '):
            named = every - parse(text[len('any except '):])
        else:
            named = parse(text)
        assert named == action.task_states, action.name


def test_status_table_covers_every_reachable_pair():
    rows = state_docs.status_rows()
    pairs = {(r[0], None if r[1] == state_docs.NO_TASK else r[1])
             for r in rows}
    assert pairs == sm.reachable_pairs()
    assert len(rows) == len(pairs)
    for row in rows:
        for status in row[2:]:
            assert status in s.STATUSES and status != s.STATUS_UNKNOWN, row


# pydot's parser still calls pyparsing's old camelCase names.
@pytest.mark.filterwarnings('ignore::DeprecationWarning:pydot')
def test_dot_is_valid_and_has_every_edge():
    dot = state_docs.render_dot()
    (graph,) = pydot.graph_from_dot_data(dot)
    drawn = {}
    for edge in graph.get_edges():
        key = (edge.get_source().strip('"'),
               edge.get_destination().strip('"'))
        assert key not in drawn, 'edge %s -> %s drawn twice' % key
        drawn[key] = set(edge.get_label().strip('"').split('\\n'))
    expected = {}
    for src, dst, event in sm.edges():
        expected.setdefault((src, dst), set()).add(event)
    assert drawn == expected
    nodes = {n.get_name().strip('"') for n in graph.get_nodes()} - {
        'node'}
    assert nodes == s.VM_STATES


def test_markdown_contains_the_three_parts():
    text = state_docs.render_markdown()
    assert state_docs.render_actions_table() in text
    assert state_docs.render_status_table() in text
    assert state_docs.render_dot() in text
    assert text.endswith('\n')
