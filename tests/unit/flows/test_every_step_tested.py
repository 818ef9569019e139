"""Every step in flows has its contract tests: a task or retry class
defined anywhere under flows/ (walked, not listed) that no
``tests/unit/flows/test_*_steps.py`` module names in its STEPS fails
here, so a new step comes with its tests."""

import importlib
import inspect
import pathlib
import pkgutil

from taskflow import atom

import flows
from flows import base



def bases():
    """The base classes of flows/base.py no flow runs as they are (they
    declare no persisted name of their own: abstract); what they do is
    exercised through their subclasses (FinishTaskOnRevert's revert by
    every sentinel's tests)."""
    return tuple(cls for name, cls in flow_atom_classes().items()
                 if name.startswith('flows.base.')
                 and 'persisted_name' not in vars(cls))


def flow_atom_classes():
    """Every atom class defined in a module of the flows package."""
    found = {}
    for info in pkgutil.walk_packages(flows.__path__, 'flows.'):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, atom.Atom) and cls.__module__ == info.name:
                found['%s.%s' % (cls.__module__, cls.__qualname__)] = cls
    return found


def covered_classes():
    """{class: [test module, ...]} of the classes in the STEPS tables."""
    tested = {}
    for path in sorted(pathlib.Path(__file__).parent.glob('test_*_steps.py')):
        module = importlib.import_module('tests.unit.flows.' + path.stem)
        for step in module.STEPS:
            tested.setdefault(type(step.make()), []).append(path.stem)
    return tested


def test_the_walk_finds_the_steps():
    found = flow_atom_classes()
    # A walk that finds nothing would make the next test pass vacuously.
    assert len(found) > 60
    assert 'flows.tasks.power.ChangePowerOnHost' in found
    assert 'flows.boot.BuildToErrorOnRevert' in found
    assert 'flows.tasks.scheduling.ScheduleInstance' in found


def test_every_step_has_contract_tests():
    tested = covered_classes()
    missing = sorted(name for name, cls in flow_atom_classes().items()
                     if cls not in bases() and cls not in tested)
    assert missing == [], (
        'steps without per-step tests (add them to a STEPS table in '
        'tests/unit/flows/test_<module>_steps.py): %s' % missing)


def test_every_base_is_exercised_through_a_subclass():
    tested = covered_classes()
    found = bases()
    assert base.InstanceTask in found and base.FinishTaskOnRevert in found
    for cls in found:
        assert any(issubclass(t, cls) for t in tested), cls
