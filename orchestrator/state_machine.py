"""The rules over :mod:`orchestrator.states`, held as data in one place.

* :data:`ACTIONS` says, for every action the API offers, in which
  (vm_state, task_state) pairs it may start, which task_state it claims the
  instance with, and which vm_states it may leave the instance in when it
  succeeds. The API's claim (one conditional UPDATE) reads its WHERE clause
  from here; nothing else decides whether an action is allowed.
* :func:`vm_state_machine` builds an :mod:`automaton` machine from the same
  table: a flow may only move an instance along one of its edges.
* :func:`status` maps (vm_state, task_state, microversion) to the status a
  client sees.

``orchestrator-manage states`` prints all of it (and a Graphviz dot), and a
unit test walks every combination, so docs and code cannot drift.
"""

import dataclasses
import functools

from automaton import exceptions as excp
from automaton import machines

from orchestrator import states as s

#: Marks "any task_state, including none" in an allowed-task-states set.
ANY_TASK = '*'


@dataclasses.dataclass(frozen=True)
class Action:
    """One user-visible action and its rules.

    :ivar name: persisted in instance_actions; chosen once.
    :ivar vm_states: vm_states in which the action may start.
    :ivar task_states: task_states in which it may start; ``None`` in the
        set means "no task running"; ``ANY_TASK`` means every task_state
        (the action preempts whatever runs).
    :ivar task_state: the task_state the claim sets (None: the action does
        not claim, e.g. an abort signal or a reset).
    :ivar outcomes: (from vm_state, to vm_state) pairs the action may make
        when it succeeds; a failure either leaves vm_state unchanged (fully
        rolled back) or sets error (rollback failed).
    :ivar admin_only: only an admin may ask for it.
    :ivar needs_host: the action acts on the instance's guest on its host,
        so an instance without a host (a build that failed before one was
        chosen) is refused (409 'server has no host'), in the same atomic
        claim (``host IS NOT NULL`` in its UPDATE).
    :ivar joins: task_states in which asking for the action again is
        answered as a success that starts nothing: the one running does
        what was asked (a second DELETE while a delete runs is a 204, as
        in Nova). Decided in the claim's transaction, after its UPDATE
        matched nothing; no second task, no second instance action.
    """

    name: str
    vm_states: frozenset
    task_states: frozenset
    task_state: str | None
    outcomes: frozenset
    admin_only: bool = False
    needs_host: bool = True
    joins: frozenset = frozenset()

    @property
    def results(self):
        """Every vm_state the action may end in, from any start."""
        return frozenset(dst for _src, dst in self.outcomes)

    def results_from(self, vm_state):
        """The vm_states the action may end in when it starts in
        ``vm_state``."""
        return frozenset(dst for src, dst in self.outcomes
                         if src == vm_state)

    def allows(self, vm_state, task_state):
        """True when the action may start on an instance in this pair."""
        if vm_state not in self.vm_states:
            return False
        return ANY_TASK in self.task_states or task_state in self.task_states

    def joined(self, vm_state, task_state):
        """True when asking for the action in this pair succeeds without
        starting anything: the task running is this action's (``joins``).
        """
        return vm_state in self.vm_states and task_state in self.joins

    def refusal(self, vm_state, task_state):
        """The message a client gets (409) when :meth:`allows` is false."""
        if vm_state not in self.vm_states:
            return ("Cannot '%s' instance while it is in vm_state %s"
                    % (self.name, vm_state))
        return ("Cannot '%s' instance while it is in task_state %s"
                % (self.name, task_state))

    def refusal_without_host(self):
        """The message a client gets (409) when the action needs a host
        and the instance has none."""
        return ("Cannot '%s' instance: the server has no host (it was "
                "never placed on one)" % self.name)


#: ``results`` marker: the action ends in the vm_state it started in.
SAME = 'same'


def _a(name, vm_states, task_states, task_state, results, admin_only=False,
       needs_host=True, joins=()):
    """Build an Action. ``results`` is SAME, a list of vm_states (reachable
    from every start) or a dict {from vm_state: to vm_state or list}."""
    if results == SAME:
        outcomes = [(vm, vm) for vm in vm_states]
    elif isinstance(results, dict):
        outcomes = [(src, dst) for src, dsts in results.items()
                    for dst in ([dsts] if isinstance(dsts, str) else dsts)]
    else:
        outcomes = [(src, dst) for src in vm_states for dst in results]
    return Action(name, frozenset(vm_states), frozenset(task_states),
                  task_state, frozenset(outcomes), admin_only, needs_host,
                  frozenset(joins))


_LIVE = (s.ACTIVE, s.BUILDING, s.STOPPED, s.PAUSED, s.SUSPENDED, s.RESCUED,
         s.RESIZED, s.SOFT_DELETED, s.ERROR, s.SHELVED, s.SHELVED_OFFLOADED)
_NO_TASK = (None,)

BOOT = 'create'
DELETE = 'delete'
FORCE_DELETE = 'forceDelete'
SOFT_DELETE = 'softDelete'
RESTORE = 'restore'
STOP = 'stop'
START = 'start'
REBOOT_SOFT = 'reboot'
REBOOT_HARD = 'reboot_hard'
PAUSE = 'pause'
UNPAUSE = 'unpause'
SUSPEND = 'suspend'
RESUME = 'resume'
RESCUE = 'rescue'
UNRESCUE = 'unrescue'
REBUILD = 'rebuild'
SNAPSHOT = 'createImage'
BACKUP = 'createBackup'
CHANGE_PASSWORD = 'changePassword'
TRIGGER_CRASH_DUMP = 'trigger_crash_dump'
RESIZE = 'resize'
CONFIRM_RESIZE = 'confirmResize'
REVERT_RESIZE = 'revertResize'
MIGRATE = 'migrate'
LIVE_MIGRATE = 'live-migration'
LIVE_MIGRATE_ABORT = 'live-migration-abort'
EVACUATE = 'evacuate'
SHELVE = 'shelve'
SHELVE_OFFLOAD = 'shelveOffload'
UNSHELVE = 'unshelve'
#: An unshelve of a server still on its host (shelved, not offloaded):
#: its guest powered on, nothing scheduled. Shown as Nova's 'unshelve' in
#: os-instance-actions; its own name picks its own flow.
UNSHELVE_ON_HOST = 'unshelve_on_host'
RESET_STATE = 'resetState'
SYNC_POWER_STATE = 'sync_power_state'

ACTIONS = {a.name: a for a in [
    # A new instance is inserted in (building, scheduling); the row does
    # not exist before, so no pair "allows" it: the edge is for the machine.
    _a(BOOT, [s.BUILDING], _NO_TASK, s.SCHEDULING, [s.ACTIVE],
       needs_host=False),
    # Exactly one delete runs: a second delete while one runs joins it
    # (204, nothing started), as in Nova, whose delete takes any task_state.
    _a(DELETE, _LIVE, (None,) + tuple(s.TASK_STATES - {s.DELETING}),
       s.DELETING, [s.DELETED], needs_host=False, joins=[s.DELETING]),
    _a(FORCE_DELETE, _LIVE, [ANY_TASK], None, [s.DELETED], needs_host=False),
    # DELETE becomes a soft delete when [DEFAULT] reclaim_instance_interval_s
    # > 0: the guest is powered off and kept, its resources stay claimed,
    # until a restore or the periodic reclaim (a 'delete').
    # NOTE: not from rescued: powering a rescued guest off keeps it in
    # rescue, and a restore would show ACTIVE a guest still rescued; with
    # reclaim on, DELETE of a rescued server deletes it for good.
    # A DELETE while a soft delete or a delete (the reclaim) runs joins it.
    _a(SOFT_DELETE, [s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED,
                     s.RESIZED, s.ERROR], _NO_TASK, s.SOFT_DELETING,
       [s.SOFT_DELETED], needs_host=False,
       joins=[s.SOFT_DELETING, s.DELETING]),
    _a(RESTORE, [s.SOFT_DELETED], _NO_TASK, s.RESTORING, [s.ACTIVE]),
    _a(STOP, [s.ACTIVE, s.ERROR], _NO_TASK, s.POWERING_OFF, [s.STOPPED]),
    _a(START, [s.STOPPED], _NO_TASK, s.POWERING_ON, [s.ACTIVE]),
    _a(REBOOT_SOFT, [s.ACTIVE], _NO_TASK, s.REBOOTING, [s.ACTIVE]),
    _a(REBOOT_HARD, [s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED, s.ERROR],
       (None,) + tuple(s.SOFT_REBOOT_TASK_STATES), s.REBOOTING_HARD,
       [s.ACTIVE]),
    _a(PAUSE, [s.ACTIVE], _NO_TASK, s.PAUSING, [s.PAUSED]),
    _a(UNPAUSE, [s.PAUSED], _NO_TASK, s.UNPAUSING, [s.ACTIVE]),
    _a(SUSPEND, [s.ACTIVE], _NO_TASK, s.SUSPENDING, [s.SUSPENDED]),
    _a(RESUME, [s.SUSPENDED], _NO_TASK, s.RESUMING, [s.ACTIVE]),
    _a(RESCUE, [s.ACTIVE, s.STOPPED, s.ERROR], _NO_TASK, s.RESCUING,
       [s.RESCUED]),
    _a(UNRESCUE, [s.RESCUED], _NO_TASK, s.UNRESCUING, [s.ACTIVE]),
    # A rebuilt server keeps its power state; a rebuilt errored one runs.
    _a(REBUILD, [s.ACTIVE, s.STOPPED, s.ERROR], _NO_TASK, s.REBUILDING,
       {s.ACTIVE: s.ACTIVE, s.STOPPED: s.STOPPED, s.ERROR: s.ACTIVE}),
    _a(SNAPSHOT, [s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED], _NO_TASK,
       s.IMAGE_SNAPSHOT, SAME),
    # A backup is a snapshot with a type and a rotation (Nova's states).
    _a(BACKUP, [s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED], _NO_TASK,
       s.IMAGE_BACKUP, SAME),
    # The guest's agent sets the password: only a running guest.
    _a(CHANGE_PASSWORD, [s.ACTIVE], _NO_TASK, s.UPDATING_PASSWORD, SAME),
    # An NMI to the guest (Nova's vm_states; the API also refuses a guest
    # whose power state says it does not run).
    _a(TRIGGER_CRASH_DUMP, [s.ACTIVE, s.PAUSED, s.RESCUED, s.RESIZED,
                            s.ERROR], _NO_TASK, s.TRIGGERING_CRASH_DUMP,
       SAME),
    _a(RESIZE, [s.ACTIVE, s.STOPPED], _NO_TASK, s.RESIZE_PREP, [s.RESIZED]),
    _a(CONFIRM_RESIZE, [s.RESIZED], _NO_TASK, s.RESIZE_CONFIRMING,
       [s.ACTIVE, s.STOPPED]),
    _a(REVERT_RESIZE, [s.RESIZED], _NO_TASK, s.RESIZE_REVERTING,
       [s.ACTIVE, s.STOPPED]),
    _a(MIGRATE, [s.ACTIVE, s.STOPPED], _NO_TASK, s.RESIZE_PREP, [s.RESIZED],
       admin_only=True),
    _a(LIVE_MIGRATE, [s.ACTIVE, s.PAUSED], _NO_TASK, s.MIGRATING, SAME,
       admin_only=True),
    # Abort is a signal to the running live migration, not a claim.
    _a(LIVE_MIGRATE_ABORT, [s.ACTIVE, s.PAUSED], [s.MIGRATING], None, SAME,
       admin_only=True),
    _a(EVACUATE, [s.ACTIVE, s.STOPPED, s.ERROR], _NO_TASK, s.REBUILDING,
       {s.ACTIVE: s.ACTIVE, s.STOPPED: s.STOPPED, s.ERROR: s.ACTIVE},
       admin_only=True),
    # Shelve (Nova's states): the guest powered off and its disk saved
    # as an image; with [DEFAULT] shelved_offload_time 0 it is offloaded
    # in the same flow (shelved_offloaded), else it waits shelved.
    _a(SHELVE, [s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED], _NO_TASK,
       s.SHELVING, [s.SHELVED, s.SHELVED_OFFLOADED]),
    _a(SHELVE_OFFLOAD, [s.SHELVED], _NO_TASK, s.SHELVING_OFFLOADING,
       [s.SHELVED_OFFLOADED], admin_only=True),
    # An offloaded server has no host: unshelve schedules one.
    _a(UNSHELVE, [s.SHELVED_OFFLOADED], _NO_TASK, s.UNSHELVING,
       [s.ACTIVE], needs_host=False),
    _a(UNSHELVE_ON_HOST, [s.SHELVED], _NO_TASK, s.UNSHELVING, [s.ACTIVE]),
    # Reset is an administrator's decision: it preempts any task.
    _a(RESET_STATE, _LIVE, [ANY_TASK], None, [s.ACTIVE, s.ERROR],
       admin_only=True, needs_host=False),
]}

#: Actions a user can request on an existing instance (all but create).
REQUESTABLE = frozenset(name for name in ACTIONS if name != BOOT)


def get_action(name):
    """The :class:`Action` called ``name``; KeyError if there is none."""
    return ACTIONS[name]


# -- the vm_state machine -------------------------------------------------
#: Edges no action names: a failed task whose rollback failed, and the
#: corrections power-state reconciliation may make (DESIGN section 7; the
#: rules are orchestrator.conductor.power_sync.RULES, and a test keeps the
#: two equal). A stopped instance whose guest runs is powered off again,
#: not moved: there is no stopped -> active edge.
EXTRA_EDGES = frozenset(
    [(vm, s.ERROR, 'fail') for vm in _LIVE if vm != s.ERROR]
    + [(s.ACTIVE, s.STOPPED, SYNC_POWER_STATE),
       (s.ACTIVE, s.PAUSED, SYNC_POWER_STATE),
       (s.ACTIVE, s.SUSPENDED, SYNC_POWER_STATE),
       (s.PAUSED, s.ACTIVE, SYNC_POWER_STATE),
       (s.PAUSED, s.STOPPED, SYNC_POWER_STATE),
       (s.SUSPENDED, s.ACTIVE, SYNC_POWER_STATE)]
    + [(vm, s.ERROR, SYNC_POWER_STATE)
       for vm in (s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED, s.RESCUED,
                  s.RESIZED)])


def edges():
    """Every (from vm_state, to vm_state, event) the machine accepts.

    The event is the action name; a task that ends with the instance where
    it started (a reboot, a snapshot) is an edge to itself.
    """
    out = set(EXTRA_EDGES)
    for action in ACTIONS.values():
        for src, dst in action.outcomes:
            out.add((src, dst, action.name))
    return frozenset(out)


@functools.lru_cache(maxsize=1)
def vm_state_machine():
    """The frozen automaton machine of vm_states (copy it to run it).

    Events are ``'<action>:<to vm_state>'`` so that an action with several
    possible outcomes stays deterministic.
    """
    m = machines.FiniteMachine()
    for vm in sorted(s.VM_STATES):
        m.add_state(vm, terminal=(vm == s.DELETED))
    for src, dst, event in sorted(edges(), key=str):
        m.add_transition(src, dst, '%s:%s' % (event, dst))
    m.freeze()
    return m


def may_transition(src, dst, action):
    """True if ``action`` may move an instance from ``src`` to ``dst``."""
    m = vm_state_machine().copy(shallow=True)
    try:
        m.initialize(start_state=src)
        m.process_event('%s:%s' % (action, dst))
    except (excp.NotFound, excp.InvalidState):
        return False
    return True


# -- the status a client sees --------------------------------------------
# Per vm_state: the default status and the task_states that override it.
#
# A deleting instance shows the status of its vm_state (ACTIVE, SHUTOFF,
# ERROR, ...) with task_state ``deleting`` until its delete has finished;
# then it is gone (404), as in Nova. DELETED is a statement that the server
# no longer exists: shown while the delete runs it was false (the guest
# still ran, its resources still counted, and a delete that failed brought
# back a server that had been shown DELETED), and the clients' waits
# (``openstack server delete --wait``, openstacksdk's ``wait_for_delete``)
# took it for the end and returned while the server was still listed. The
# delete in progress is shown truthfully where Nova shows it, in
# ``OS-EXT-STS:task_state``; the status never says more than has happened
# (never BUILD for a server that was built: the seeds' complaint was a
# status the server was not in).
_TASK_OVERRIDES_ALL = {
    s.SOFT_DELETING: s.STATUS_SOFT_DELETED,
}
_STATUS_MAP = {
    s.ACTIVE: (s.STATUS_ACTIVE, dict(
        [(t, s.STATUS_REBOOT) for t in s.SOFT_REBOOT_TASK_STATES]
        + [(t, s.STATUS_HARD_REBOOT) for t in s.HARD_REBOOT_TASK_STATES]
        + [(t, s.STATUS_REBUILD) for t in s.REBUILD_TASK_STATES]
        + [(t, s.STATUS_RESIZE) for t in s.RESIZE_TASK_STATES]
        + [(s.MIGRATING, s.STATUS_MIGRATING),
           (s.UPDATING_PASSWORD, s.STATUS_PASSWORD)])),
    s.BUILDING: (s.STATUS_BUILD, {}),
    s.STOPPED: (s.STATUS_SHUTOFF, dict(
        [(t, s.STATUS_RESIZE) for t in s.RESIZE_TASK_STATES]
        + [(t, s.STATUS_REBUILD) for t in s.REBUILD_TASK_STATES]
        + [(t, s.STATUS_HARD_REBOOT) for t in s.HARD_REBOOT_TASK_STATES])),
    s.RESIZED: (s.STATUS_VERIFY_RESIZE, {
        s.RESIZE_REVERTING: s.STATUS_REVERT_RESIZE}),
    s.PAUSED: (s.STATUS_PAUSED, dict(
        [(s.MIGRATING, s.STATUS_MIGRATING)]
        + [(t, s.STATUS_HARD_REBOOT) for t in s.HARD_REBOOT_TASK_STATES])),
    s.SUSPENDED: (s.STATUS_SUSPENDED, dict(
        (t, s.STATUS_HARD_REBOOT) for t in s.HARD_REBOOT_TASK_STATES)),
    s.RESCUED: (s.STATUS_RESCUE, {}),
    s.SOFT_DELETED: (s.STATUS_SOFT_DELETED, {}),
    s.DELETED: (s.STATUS_DELETED, {}),
    s.ERROR: (s.STATUS_ERROR, dict(
        [(t, s.STATUS_REBUILD) for t in s.REBUILD_TASK_STATES]
        + [(t, s.STATUS_HARD_REBOOT) for t in s.HARD_REBOOT_TASK_STATES])),
    # As in Nova, a shelve in progress shows the server's status until it
    # is shelved, and an unshelve the shelved status until it is active.
    s.SHELVED: (s.STATUS_SHELVED, {s.SHELVING_OFFLOADING: s.STATUS_SHELVED}),
    s.SHELVED_OFFLOADED: (s.STATUS_SHELVED_OFFLOADED, dict(
        (t, s.STATUS_SHELVED_OFFLOADED)
        for t in s.BUILD_TASK_STATES)),
}
for _vm in (s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED):
    # Shown as the vm_state's own status (the overrides name the
    # task_states a shelve moves through, so they are reachable pairs).
    _STATUS_MAP[_vm][1].update(
        (t, _STATUS_MAP[_vm][0]) for t in s.SHELVE_TASK_STATES)

#: Status -> the first microversion whose clients know it. Every status
#: today is from 2.1; a status added later gets its version here, and older
#: clients are shown the fallback instead (never a status they don't know).
STATUS_MIN_VERSION = {status: (2, 1) for status in s.STATUSES}
STATUS_FALLBACK = {}


def status(vm_state, task_state, microversion=(2, 1)):
    """The status a client asking at ``microversion`` is shown."""
    if task_state in _TASK_OVERRIDES_ALL and vm_state != s.DELETED:
        result = _TASK_OVERRIDES_ALL[task_state]
    elif vm_state in _STATUS_MAP:
        default, overrides = _STATUS_MAP[vm_state]
        result = overrides.get(task_state, default)
    else:
        return s.STATUS_UNKNOWN
    while STATUS_MIN_VERSION.get(result, (2, 1)) > tuple(microversion):
        result = STATUS_FALLBACK.get(result, s.STATUS_UNKNOWN)
    return result


#: Our task_states that Nova does not have, and what a client is shown in
#: their place (None: no task), so that it only ever reads Nova's values:
#: Nova's crash dump runs without a task_state; ours holds a claim (one
#: task at a time) that its clients need not see.
SHOWN_TASK_STATES = {s.TRIGGERING_CRASH_DUMP: None}


def shown_task_state(task_state):
    """The ``OS-EXT-STS:task_state`` a client is shown for
    ``task_state``."""
    return SHOWN_TASK_STATES.get(task_state, task_state)


def reachable_pairs():
    """Every (vm_state, task_state) pair an instance can be observed in.

    A pair is reachable when some action that starts in vm_state claims
    task_state (or, for task_state None, vm_state is a stable end), plus the
    sub-steps a flow moves through (e.g. spawning during a build).
    """
    pairs = {(vm, None) for vm in s.VM_STATES}
    for action in ACTIONS.values():
        if action.task_state is None:
            continue
        for vm in action.vm_states:
            pairs.add((vm, action.task_state))
    for t in s.BUILD_TASK_STATES:
        pairs.add((s.BUILDING, t))
    for vm, (_default, overrides) in _STATUS_MAP.items():
        for t in overrides:
            pairs.add((vm, t))
    return frozenset(pairs)


# -- migration statuses ---------------------------------------------------
#: The migration types (persisted in migrations.migration_type).
MIGRATION_RESIZE = 'resize'
MIGRATION_COLD = 'migration'
MIGRATION_LIVE = 'live-migration'
MIGRATION_EVACUATION = 'evacuation'


def _resize_transitions():
    """Resize and cold migration (one flow, and its confirm and revert):
    pre-migrating -> migrating -> post-migrating -> finished, then
    confirming -> confirmed or reverting -> reverted. A confirm or revert
    that failed waits again (finished); a resize whose rollback ran ends
    in error (whatever step it reached, a finished one included: the
    last step lost its claim); a delete ends any non-final one in
    cancelled."""
    forward = [
        (s.MIGRATION_PRE_MIGRATING, s.MIGRATION_MIGRATING),
        (s.MIGRATION_MIGRATING, s.MIGRATION_POST_MIGRATING),
        (s.MIGRATION_POST_MIGRATING, s.MIGRATION_FINISHED),
        (s.MIGRATION_FINISHED, s.MIGRATION_CONFIRMING),
        (s.MIGRATION_CONFIRMING, s.MIGRATION_CONFIRMED),
        (s.MIGRATION_CONFIRMING, s.MIGRATION_FINISHED),
        (s.MIGRATION_FINISHED, s.MIGRATION_REVERTING),
        (s.MIGRATION_REVERTING, s.MIGRATION_REVERTED),
        (s.MIGRATION_REVERTING, s.MIGRATION_FINISHED),
    ]
    rolled_back = [(src, s.MIGRATION_ERROR) for src in (
        s.MIGRATION_PRE_MIGRATING, s.MIGRATION_MIGRATING,
        s.MIGRATION_POST_MIGRATING, s.MIGRATION_FINISHED)]
    deleted = [(src, s.MIGRATION_CANCELLED) for src in (
        s.MIGRATION_PRE_MIGRATING, s.MIGRATION_MIGRATING,
        s.MIGRATION_POST_MIGRATING, s.MIGRATION_FINISHED,
        s.MIGRATION_CONFIRMING, s.MIGRATION_REVERTING)]
    return frozenset(forward + rolled_back + deleted)


def _live_transitions():
    """Live migration: queued -> preparing -> running -> post-migrating
    (its point of no return) -> completed. Before the point of no
    return: cancelled (an abort, or a delete), failed (rolled back) or
    error (its rollback could not finish, or the request never reached
    a conductor); past it only error (the roll forward lost its
    claim)."""
    before = (s.MIGRATION_QUEUED, s.MIGRATION_PREPARING,
              s.MIGRATION_RUNNING)
    return frozenset(
        [(s.MIGRATION_QUEUED, s.MIGRATION_PREPARING),
         (s.MIGRATION_PREPARING, s.MIGRATION_RUNNING),
         (s.MIGRATION_RUNNING, s.MIGRATION_POST_MIGRATING),
         (s.MIGRATION_POST_MIGRATING, s.MIGRATION_COMPLETED),
         (s.MIGRATION_POST_MIGRATING, s.MIGRATION_ERROR)]
        + [(src, dst) for src in before
           for dst in (s.MIGRATION_CANCELLED, s.MIGRATION_FAILED,
                       s.MIGRATION_ERROR)])


def _evacuation_transitions():
    """Evacuation: accepted -> pre-migrating -> done (rebuilt elsewhere,
    waiting for its source host) -> completed (the source's leftover
    destroyed). Before done: failed (rolled back), error (its rollback
    could not finish, or the request never reached a conductor) or
    cancelled (a delete); a delete ends a done one too."""
    before = (s.MIGRATION_ACCEPTED, s.MIGRATION_PRE_MIGRATING)
    return frozenset(
        [(s.MIGRATION_ACCEPTED, s.MIGRATION_PRE_MIGRATING),
         (s.MIGRATION_PRE_MIGRATING, s.MIGRATION_DONE),
         (s.MIGRATION_DONE, s.MIGRATION_COMPLETED),
         (s.MIGRATION_DONE, s.MIGRATION_CANCELLED)]
        + [(src, dst) for src in before
           for dst in (s.MIGRATION_FAILED, s.MIGRATION_ERROR,
                       s.MIGRATION_CANCELLED)])


#: Per migration type: the status its record is created in.
MIGRATION_INITIAL = {
    MIGRATION_RESIZE: s.MIGRATION_PRE_MIGRATING,
    MIGRATION_COLD: s.MIGRATION_PRE_MIGRATING,
    MIGRATION_LIVE: s.MIGRATION_QUEUED,
    MIGRATION_EVACUATION: s.MIGRATION_ACCEPTED,
}

#: Per migration type: every (from status, to status) a write may make.
#: :func:`orchestrator.db.migration_records.set_status`, the one writer of
#: a migration's status, refuses any other (a re-write of the status a
#: record is in is no transition: it converges a step re-run).
MIGRATION_TRANSITIONS = {
    MIGRATION_RESIZE: _resize_transitions(),
    MIGRATION_COLD: _resize_transitions(),
    MIGRATION_LIVE: _live_transitions(),
    MIGRATION_EVACUATION: _evacuation_transitions(),
}


def migration_statuses(migration_type):
    """Every status a migration of ``migration_type`` can be in."""
    return frozenset([MIGRATION_INITIAL[migration_type]]
                     + [st for edge in MIGRATION_TRANSITIONS[migration_type]
                        for st in edge])


def migration_may_transition(migration_type, src, dst):
    """True if a migration of ``migration_type`` may go from ``src`` to
    ``dst``; KeyError for an unknown type."""
    return (src, dst) in MIGRATION_TRANSITIONS[migration_type]


def migration_sources(migration_type, dst):
    """The statuses from which a migration of ``migration_type`` may move
    to ``dst``."""
    return frozenset(src for src, to in MIGRATION_TRANSITIONS[migration_type]
                     if to == dst)
