"""The crash suite: every flow, killed at every failpoint it reaches.

See :mod:`tests.crash.cases` for the cases and :mod:`tests.crash.scenario`
for what each one does and checks. ``make test`` runs a sample (one case
per step or compute call and phase, fixed seed); ``make crash-test``
(``CRASH_ALL=1``) runs every case.
"""

import pytest

from flows import keys

from tests.crash import cases
from tests.crash import recipes
from tests.crash import scenario

CASES = cases.selected_cases()


def test_every_flow_has_a_recipe():
    """A flow without a recipe would silently escape the crash suite."""
    without, orphans = recipes.missing()
    assert not without, (
        'flows without a crash recipe (add them to '
        'tests/crash/recipes.py RECIPES): %s' % ', '.join(without))
    assert not orphans, 'recipes of no flow: %s' % ', '.join(orphans)


def test_recipes_name_their_steps_and_calls():
    """A recipe's fail_step and call_steps name steps of its flow, and a
    flow whose resume policy is revert says which step makes each call
    (its cases' outcome depends on it)."""
    modules = recipes.flow_modules()
    for flow, recipe in sorted(recipes.RECIPES.items()):
        steps = cases.atom_names(modules[flow])
        named = set(recipe.call_steps.values())
        if recipe.fail_step:
            named.add(recipe.fail_step)
        assert named <= set(steps), (flow, named - set(steps))
        for together in recipe.step_calls:
            assert together <= set(recipe.calls) | set(recipe.undo), (
                flow, together)
        if modules[flow].RESUME_POLICY == keys.REVERT:
            assert set(recipe.call_steps) == set(recipe.calls), flow


@pytest.mark.parametrize('case', CASES, ids=[c.id for c in CASES])
def test_crash(case, template, launcher, tmp_path):
    template_dir, servers = template
    scenario.run(case, template_dir, servers, launcher, tmp_path)
