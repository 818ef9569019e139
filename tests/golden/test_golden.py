"""The persisted names of every flow are the ones pinned in flows.json."""

import difflib

from flows import base
from flows import catalog
from flows import keys
from tests import golden

REGENERATE = ('If (and only if) this change is planned, with an upgrade '
              'of the logbooks in flight (docs/evolution.md), regenerate '
              'the file: python -m tests.golden.regenerate')


def test_flows_match_the_golden_file():
    expected = golden.dumps(golden.load())
    current = golden.dumps(golden.describe_flows())
    if current != expected:
        diff = ''.join(difflib.unified_diff(
            expected.splitlines(True), current.splitlines(True),
            'tests/golden/flows.json', 'the flows as they are now'))
        raise AssertionError('A persisted name changed (flow names, atom '
                             'names, requires/provides):\n%s\n%s'
                             % (diff, REGENERATE))


def test_golden_file_has_every_flow_of_the_catalogue():
    names = {module.FLOW_NAME for module in catalog.all_flow_modules()}
    assert set(golden.load()) == names


def test_every_atom_is_named_as_its_class_declares():
    for module in catalog.all_flow_modules():
        for atom, _kind, _in in golden.walk_atoms(module.get_flow()):
            if isinstance(atom, base.PersistedName):
                assert atom.name == type(atom).persisted_name, atom


def test_a_concrete_step_without_a_persisted_name_is_refused():
    try:
        class Undeclared(base.InstanceTask):
            def execute(self):
                pass
    except TypeError as e:
        assert 'must declare persisted_name' in str(e)
    else:
        raise AssertionError('a step without persisted_name was defined')


def test_an_inherited_persisted_name_does_not_count():
    try:
        class Inherits(base.FinishTaskOnRevert):
            pass
    except TypeError:
        pass
    else:
        raise AssertionError('a sentinel without its own name was defined')


def test_a_persisted_name_declared_twice_is_refused():
    try:
        class Twin(base.InstanceTask):
            persisted_name = 'flows.tasks.power.ChangePowerOnHost'

            def execute(self):
                pass
    except TypeError as e:
        assert 'already declared by flows.tasks.power.ChangePowerOnHost' \
            in str(e)
    else:
        raise AssertionError('a second class took a persisted name')


def test_a_declared_step_is_named_by_it_wherever_it_lives():
    class Moved(base.InstanceTask):
        persisted_name = 'tests.golden.test_golden.OldHome'

        def execute(self):
            pass

    assert Moved().name == 'tests.golden.test_golden.OldHome'
    assert Moved(name='explicit').name == 'explicit'
    assert base.persisted_names()['tests.golden.test_golden.OldHome'] \
        .endswith('Moved')


def test_a_store_holds_the_given_values_under_their_keys():
    assert keys.make_store({'user_id': 'u'}, 'i-1', 7) == {
        keys.CONTEXT: {'user_id': 'u'}, keys.INSTANCE_UUID: 'i-1',
        keys.ACTION_ID: 7}
    assert keys.make_store({}, 'i-1', 7, task_id='t', params={},
                           start_vm_state='active', host='h') == {
        'context': {}, 'instance_uuid': 'i-1', 'action_id': 7,
        'task_id': 't', 'params': {}, 'start_vm_state': 'active',
        'host': 'h'}
