"""The crash cases: every flow, every failpoint its run reaches.

For each flow (:func:`flows.catalog.all_flow_modules`)
and its recipe (:mod:`tests.crash.recipes`):

* forward: each window between the request's acceptance and the
  flow's first step (``job:after-claim``, where the claim is given back
  and no flow runs, ``after-accept``, ``before-save``,
  ``after-save``, ``after-post``, ``before-run``), each step before and
  after it executes, each compute call of the flow before and after the
  driver ran it, the flow ended with its job still on the board
  (``job:before-consume``);
* rollback (the recipe's faults make a host call fail): each step that
  is reverted, before and after its revert; each host call only the
  rollback makes; the rolled-back flow's job still on the board;
* rollback from the last step (it fails before it runs, armed with
  ``<flow>:<last step>:before-execute=raise``, so every step is
  reverted): each revert failpoint the rollback above does not reach,
  each host call only this rollback makes, the job still on the board
  (also the baseline of this rollback), a second kill in the recovery
  from each of those reverts. Flows past whose point of no return a
  failure is retried until it succeeds (live migration) have none:
  their last steps are reverted only when the flow is preempted;
* interrupts (a second request rolls the flow back while it runs: a
  live migration's abort during the copy, a force delete while its
  steps past the point of no return keep failing): each failpoint the
  interrupt's path reaches, the job still on the board;
* a crash during the recovery itself: the process is killed at a step,
  then killed again on its first restart, at the same point when the
  recovery passes it again (a step re-run, a revert resumed) or, for a
  flow whose resume policy is revert, once the interrupted step is
  reverted.

:func:`ci_sample` picks one case of each kind (:meth:`Case.kind`: one
failpoint per step and per compute method, each job phase, a crash in
the recovery) with a fixed seed, and one of each flow left out: the
subset ``make test`` runs.
``CRASH_ALL=1`` runs them all (``make crash-test``).
"""

import collections
import dataclasses
import os
import random

from orchestrator import failpoints

from flows import catalog
from flows import keys

from tests.crash import recipes

#: The CI sample's seed (fixed: the same cases run every time).
SEED = 20261121
PREFIX = 'orchestrator-'
CLEANUP_FLOW = 'orchestrator-cleanup-server'

SUCCESS = 'SUCCESS'
REVERTED = 'REVERTED'
#: The request was killed between its claim and its record: no flow
#: ran, the claim was given back (its action ended in Error).
RELEASED = 'RELEASED'
#: The job phase whose kill ends a case RELEASED.
RELEASED_PHASE = 'after-claim'
#: Flows whose request is recorded in the transaction that claims (a
#: create: the servers, their actions and their requests are inserted
#: together, orchestrator.db.boot_requests): killed at after-claim, the
#: request is already accepted and a conductor posts it (SUCCESS).
RECORDED_WITH_CLAIM = frozenset(['orchestrator-boot-server'])

FAULT = recipes.FAULT
LAST = recipes.LAST


@dataclasses.dataclass(frozen=True)
class Case:
    """One crash case.

    :param flow: the FLOW_NAME.
    :param failpoint: where the process is killed first.
    :param rollback: None (the flow runs forward), :data:`FAULT` (the
        recipe's faults are on), :data:`LAST` (its last step fails) or
        the name of one of the recipe's interrupts (a second request):
        the flow rolls back.
    :param second: where the first restart is killed again (None: the
        first restart recovers).
    """

    flow: str
    failpoint: str
    rollback: str = None
    second: str = None

    @property
    def id(self):
        name = self.failpoint
        if name.startswith(self.flow + ':'):
            name = name[len(self.flow) + 1:]
        out = '%s/%s' % (self.flow[len(PREFIX):], name)
        if self.rollback == FAULT:
            out += '/rollback'
        elif self.rollback == LAST:
            out += '/rollback-from-last'
        elif self.rollback:
            out += '/' + self.rollback
        if self.second:
            out += '/again-in-recovery'
        return out

    @property
    def kills(self):
        return 2 if self.second else 1

    def kind(self):
        """What the CI sample takes one case of, per type of failpoint:
        a step (by class: a step shared by several flows once; any of its
        four phases), a compute method (either phase), a job phase on
        either path, a crash in the recovery on each path and resume
        policy."""
        scope, atom, phase = self.failpoint.rsplit(':', 2)
        if self.second:
            policy = recipes.flow_modules()[self.flow].RESUME_POLICY
            return ('again', self.rollback, policy)
        if scope == 'compute':
            return ('compute', atom)
        if atom == 'job':
            return ('job', phase, self.rollback)
        return ('step', atom)


def atom_names(module):
    """The step names of a flow module, in order."""
    return [catalog.short_name(name)
            for name in catalog.atom_names(module.get_flow())]


def _step(flow, atom, phase):
    return failpoints.step_name(flow, atom, phase)


def _calls(methods, phases=failpoints.COMPUTE_PHASES):
    return ['compute:%s:%s' % (m, p) for m in methods for p in phases]


def _again(module, atom):
    """Where a recovery from ``<atom>:after-execute`` is killed again."""
    flow = module.FLOW_NAME
    if expected_forward(module, atom) == REVERTED:
        return _step(flow, atom, 'after-revert')
    return _step(flow, atom, 'after-execute')


def last_step_failure(module, recipe):
    """The failpoint (armed ``=raise``) that fails the flow's last step
    before it runs; None when the recipe says such a failure never rolls
    the flow back (its last steps are retried until they succeed)."""
    if not recipe.last_fails:
        return None
    return _step(module.FLOW_NAME, atom_names(module)[-1], 'before-execute')


def accepted_job_phases(module):
    """The job phases from a request's acceptance to its flow's first
    step. A force delete's cleanup is not a claim (the force delete is
    done in the database at once), so it has no ``after-claim``."""
    if module.FLOW_NAME == CLEANUP_FLOW:
        return ('after-accept', 'before-save', 'after-save', 'after-post',
                'before-run')
    return ('after-claim', 'after-accept', 'before-save', 'after-save',
            'after-post', 'before-run')


def cases_of(module, recipe):
    """Every crash case of one flow."""
    flow = module.FLOW_NAME
    atoms = atom_names(module)
    out = [Case(flow, '%s:job:%s' % (flow, phase))
           for phase in accepted_job_phases(module)]
    for atom in atoms:
        out.extend(Case(flow, _step(flow, atom, phase))
                   for phase in ('before-execute', 'after-execute'))
    out.extend(Case(flow, fp) for fp in _calls(recipe.rpc_methods()))
    out.append(Case(flow, '%s:job:before-consume' % flow))
    out.extend(Case(flow, _step(flow, atom, 'after-execute'),
                    second=_again(module, atom)) for atom in atoms)
    if recipe.fail:
        reverted = atoms[:atoms.index(recipe.fail_step) + 1]
        for atom in reversed(reverted):
            out.extend(Case(flow, _step(flow, atom, phase), rollback=FAULT)
                       for phase in ('before-revert', 'after-revert'))
        forward_rpcs = set(recipe.rpc_methods())
        out.extend(Case(flow, fp, rollback=FAULT) for fp in _calls(
            [m for m in recipe.rpc_methods(rollback=FAULT)
                   if m not in forward_rpcs]))
        out.append(Case(flow, '%s:job:before-consume' % flow,
                        rollback=FAULT))
        out.extend(Case(flow, _step(flow, atom, 'before-revert'),
                        rollback=FAULT,
                        second=_step(flow, atom, 'before-revert'))
                   for atom in reversed(reverted))
    if last_step_failure(module, recipe) is not None:
        out.extend(_last_step_cases(module, recipe, out))
    for name, interrupt in sorted(recipe.interrupts.items()):
        out.extend(Case(flow, failpoint, rollback=name)
                   for failpoint in interrupt.kill_at)
        out.append(Case(flow, '%s:job:before-consume' % flow,
                        rollback=name))
    return out


def _last_step_cases(module, recipe, earlier):
    """The cases of the rollback from the flow's last step that reach a
    failpoint none of ``earlier`` reaches (and its baseline)."""
    flow = module.FLOW_NAME
    reached = {c.failpoint for c in earlier}
    out = []
    fresh = []
    for atom in reversed(atom_names(module)):
        for phase in ('before-revert', 'after-revert'):
            failpoint = _step(flow, atom, phase)
            if failpoint not in reached:
                out.append(Case(flow, failpoint, rollback=LAST))
                if phase == 'before-revert':
                    fresh.append(failpoint)
    known = set(recipe.rpc_methods()) | set(
        recipe.rpc_methods(rollback=FAULT))
    out.extend(Case(flow, fp, rollback=LAST) for fp in _calls(
        [m for m in recipe.rpc_methods(rollback=LAST) if m not in known]))
    out.append(Case(flow, '%s:job:before-consume' % flow, rollback=LAST))
    out.extend(Case(flow, failpoint, rollback=LAST, second=failpoint)
               for failpoint in fresh)
    return out


def all_cases():
    """Every case of every flow that has a recipe, in flow order."""
    out = []
    for flow, module in recipes.flow_modules().items():
        recipe = recipes.RECIPES.get(flow)
        if recipe is not None:
            out.extend(cases_of(module, recipe))
    return out


def ci_sample(cases, seed=SEED):
    """One case per :meth:`Case.kind`, chosen with ``seed``, and one more
    of each flow none of those is of; in the order of ``cases``."""
    by_kind = collections.defaultdict(list)
    by_flow = collections.defaultdict(list)
    for case in cases:
        by_kind[case.kind()].append(case)
        by_flow[case.flow].append(case)
    rng = random.Random(seed)
    chosen = {rng.choice(group) for _kind, group in sorted(
        by_kind.items(), key=lambda item: repr(item[0]))}
    covered = {case.flow for case in chosen}
    chosen.update(rng.choice(group) for flow, group in sorted(
        by_flow.items()) if flow not in covered)
    return [case for case in cases if case in chosen]


def selected_cases():
    """What this run runs: every case with ``CRASH_ALL=1``, else the CI
    sample."""
    cases = all_cases()
    if os.environ.get('CRASH_ALL', '') not in ('', '0'):
        return cases
    return ci_sample(cases)


# -- what a case must end in ----------------------------------------------


def point_of_no_return(module):
    """The step after whose completion the flow only goes forward."""
    return getattr(module, 'POINT_OF_NO_RETURN', None)


def expected_forward(module, atom):
    """How a flow interrupted in step ``atom`` (None: before any step
    ran) ends once resumed: SUCCESS or REVERTED, by its resume policy and
    its point of no return (reached once that step started)."""
    if module.RESUME_POLICY == keys.RESUME or atom is None:
        return SUCCESS
    atoms = atom_names(module)
    ponr = point_of_no_return(module)
    if ponr is not None and atoms.index(atom) >= atoms.index(ponr):
        return SUCCESS
    return REVERTED


def expected_outcome(case):
    """The final state of the case's flow."""
    if case.rollback:
        return REVERTED
    module = recipes.flow_modules()[case.flow]
    scope, atom, phase = case.failpoint.rsplit(':', 2)
    if atom == 'job':
        released = (phase == RELEASED_PHASE
                    and case.flow not in RECORDED_WITH_CLAIM)
        return RELEASED if released else SUCCESS
    if scope == 'compute':
        if module.RESUME_POLICY == keys.RESUME:
            return SUCCESS
        recipe = recipes.RECIPES[case.flow]
        steps = {m if m in recipe.rpc_methods() else 'set_power_state': s
                 for m, s in recipe.call_steps.items()}
        return expected_forward(module, steps[atom])
    return expected_forward(module, atom)
