"""What a conductor does with a flow a crash interrupted: resume or revert.

Each flow module declares ``RESUME_POLICY`` (:data:`flows.keys.RESUME` or
:data:`flows.keys.REVERT`) and may declare ``POINT_OF_NO_RETURN``, the
name of one of its steps. :class:`orchestrator.conductor.jobs.JobPoster`
records both in the flow detail's meta when it posts the flow, so a flow
in flight keeps the policy it was posted with.

A flow was *interrupted* when one of its steps was executing (RUNNING in
the logbook) when the process running it died. When a conductor picks up
its job again:

* policy **resume**: the flow goes on; TaskFlow runs the interrupted step
  again (every ``execute`` is idempotent);
* policy **revert**: unless the flow reached its point of no return,
  the interrupted step is recorded as failed with :class:`FlowInterrupted`
  (its audit event ends in Error), and the engine rolls the flow back as
  after any failure: the interrupted step's revert runs too (every
  ``revert`` is safe whether or not its ``execute`` finished).

The point of no return is reached once its step *started*: a crash in
that step itself rolls forward too (the step runs again), because the
step may have committed before the process died and what comes after a
commit is not undone (a live migration's destination owns the guest).

Whatever the policy, a flow interrupted in its last step after that step
ended its task is recorded as done (:mod:`orchestrator.conductor.
completed_in_crash`): a later request's claim is no preemption of it.

Run as they are, whatever the policy: a fresh job (no step ran yet), a
flow interrupted while rolling back (the rollback goes on), and a flow an
operator repaired (:mod:`orchestrator.flow_repair`: no step is running).
"""

import logging

from taskflow import states as tf_states
from taskflow import task as tf_task
from taskflow.types import failure as tf_failure

from orchestrator import exception
from orchestrator.conductor import completed_in_crash

from flows import catalog
from flows import keys

LOG = logging.getLogger(__name__)

#: Keys of a flow detail's meta (fixed: written into logbooks).
META_POLICY = 'resume_policy'
META_POINT_OF_NO_RETURN = 'point_of_no_return'


#: The failure recorded for a step interrupted in a flow whose policy is
#: revert (an error of ours: its message is shown to the server's owner).
FlowInterrupted = exception.FlowInterrupted


def meta_for(flow_module):
    """The meta a flow detail of ``flow_module`` records its policy in."""
    return {META_POLICY: flow_module.RESUME_POLICY,
            META_POINT_OF_NO_RETURN: getattr(flow_module,
                                             'POINT_OF_NO_RETURN', None)}


def apply(engine):
    """Apply the flow's resume policy before ``engine`` runs.

    Call it with the engine's listeners registered (the audit listener
    records the interrupted step's end). Compiles and prepares the engine
    (both are idempotent).

    :returns: the names of the steps recorded as interrupted (empty: the
        flow runs as it is).
    """
    storage = engine.storage
    meta = storage.flow_meta or {}
    engine.compile()
    engine.prepare()
    if completed_in_crash.check(engine) is not None:
        return []
    if meta.get(META_POLICY, keys.RESUME) != keys.REVERT:
        return []
    tasks = [node for node in engine.compilation.execution_graph.nodes
             if isinstance(node, tf_task.Task)]
    atom_states = storage.get_atoms_states(t.name for t in tasks)
    running = sorted(t.name for t in tasks
                     if atom_states[t.name] == (tf_states.RUNNING,
                                                tf_states.EXECUTE))
    if not running:
        return []
    ponr = meta.get(META_POINT_OF_NO_RETURN)
    if ponr is not None and any(
            catalog.short_name(name) == ponr
            and state in (tf_states.RUNNING, tf_states.SUCCESS)
            for name, (state, _intention) in atom_states.items()):
        LOG.info('Flow %s (%s) was interrupted past its point of no '
                 'return (%s): resuming it', storage.flow_name,
                 storage.flow_uuid, ponr)
        return []
    failure = tf_failure.Failure.from_exception(
        FlowInterrupted(flow=storage.flow_name))
    for name in running:
        storage.save(name, failure, tf_states.FAILURE)
        engine.atom_notifier.notify(tf_states.FAILURE, {
            'task_name': name, 'task_uuid': storage.get_atom_uuid(name),
            'result': failure})
    LOG.warning('Flow %s (%s) was interrupted in %s: reverting it (its '
                'resume policy)', storage.flow_name, storage.flow_uuid,
                ', '.join(catalog.short_name(n) for n in running))
    return running


class Applier:
    """A context manager for the conductor's listener stack: entered
    after the listeners before it, it applies the resume policy to the
    engine (see :func:`apply`); leaving does nothing."""

    def __init__(self, engine):
        self._engine = engine

    def __enter__(self):
        apply(self._engine)
        return self

    def __exit__(self, *exc):
        return False
