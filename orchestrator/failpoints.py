"""Failpoints: kill (or fail) the process at a named point, for crash tests.

A failpoint is named ``<flow>:<atom>:<phase>``:

* flow steps, in the conductor: ``orchestrator-boot-server:SpawnOnHost:
  before-execute``; phases ``before-execute``, ``after-execute`` (the step
  did its work, its result is not recorded yet), ``before-revert``,
  ``after-revert``;
* jobs, every window from the request's acceptance to its flow's end:
  ``<flow>:job:after-claim`` (in the API: the instance is claimed, the
  request not recorded yet: a conductor gives the claim back),
  ``after-accept`` (the request recorded, no conductor called yet: a
  conductor posts it), ``before-save`` (a
  conductor has the request, nothing saved), ``after-save`` (the
  logbook is saved, no job posted), ``after-post`` (the job is on the
  board, the API has not heard back), ``before-run`` (a conductor
  claimed the job and loaded its engine, no step ran) and
  ``before-consume`` (the flow ended, its job is still on the board);
* compute agents: ``compute:<method>:before-call`` and
  ``compute:<method>:after-call`` around each driver call.

:func:`names` lists them all (``orchestrator-manage failpoints``).

They are armed by the environment variable ``ORCHESTRATOR_FAILPOINTS``, a
comma-separated list of ``pattern`` or ``pattern=action``; a pattern may
use shell wildcards (``*:SpawnOnHost:*``); the action is ``kill``
(SIGKILL of the process itself, the default) or ``raise``
(:class:`FailpointHit`, for tests in one process). Unset (production),
:func:`hit` returns after one check of a module-level value.
"""

import fnmatch
import logging
import os
import signal

from flows import atoms

LOG = logging.getLogger(__name__)

ENV_VAR = 'ORCHESTRATOR_FAILPOINTS'
KILL = 'kill'
RAISE = 'raise'
ACTIONS = (KILL, RAISE)

STEP_PHASES = ('before-execute', 'after-execute', 'before-revert',
               'after-revert')
JOB_PHASES = ('after-claim', 'after-accept', 'before-save', 'after-save',
              'after-post', 'before-run', 'before-consume')
COMPUTE_PHASES = ('before-call', 'after-call')


class FailpointHit(Exception):
    """Raised at a failpoint armed with the action ``raise``."""


def parse(text):
    """[(pattern, action)] from the variable's value; ValueError on an
    unknown action."""
    armed = []
    for item in (text or '').split(','):
        item = item.strip()
        if not item:
            continue
        pattern, _sep, action = item.partition('=')
        action = action.strip() or KILL
        if action not in ACTIONS:
            raise ValueError('failpoint %r: action must be one of %s'
                             % (item, ', '.join(ACTIONS)))
        armed.append((pattern.strip(), action))
    return tuple(armed)


_ARMED = parse(os.environ.get(ENV_VAR))


def arm(text):
    """Replace the armed failpoints (``text`` in the variable's format;
    empty disarms). For tests in one process."""
    global _ARMED
    _ARMED = parse(text)


def hit(name):
    """Act if a failpoint matching ``name`` is armed; else return."""
    if not _ARMED:
        return
    for pattern, action in _ARMED:
        if fnmatch.fnmatchcase(name, pattern):
            LOG.warning('Failpoint %s hit (%s)', name, action)
            if action == RAISE:
                raise FailpointHit(name)
            logging.shutdown()
            os.kill(os.getpid(), signal.SIGKILL)


def step_name(flow_name, atom_name, phase):
    """The failpoint of one flow step's phase."""
    return '%s:%s:%s' % (flow_name, atoms.short_name(atom_name), phase)


def names(flow_modules, compute_methods):
    """Every failpoint of ``flow_modules`` (their steps and job windows)
    and of ``compute_methods`` (names of compute RPC methods), sorted.
    ``orchestrator-manage failpoints`` lists them for every flow of
    :func:`flows.catalog.all_flow_modules` and every method the compute
    manager serves."""
    out = []
    for module in flow_modules:
        flow = module.get_flow()
        for atom in atoms.atoms_of(flow):
            out.extend(step_name(module.FLOW_NAME, atom.name, phase)
                       for phase in STEP_PHASES)
        out.extend('%s:job:%s' % (module.FLOW_NAME, phase)
                   for phase in JOB_PHASES)
    for method in compute_methods:
        out.extend('compute:%s:%s' % (method, phase)
                   for phase in COMPUTE_PHASES)
    return sorted(set(out))
