"""The flows catalogue: which flow runs each action, every flow, and
how a flow's atoms are walked and named.

One place for all of it, so the conductor (which posts and runs flows),
the API (which names a request's failpoints), the sweeper of accepted
requests (:mod:`orchestrator.conductor.accepted`), flow healing, the
audit listener, resume policies, operators' views and repairs
(:mod:`orchestrator.flow_views`, :mod:`orchestrator.flow_repair`,
``orchestrator-manage``) and the crash tests agree on it.

* :data:`ACTION_FLOWS` / :func:`flow_for`: the flow of an action;
  :data:`STARTED_ACTION_FLOWS` those the conductor's ``start_action``
  posts;
* :func:`all_flow_modules`, :func:`by_flow_name`: every flow a conductor
  runs;
* :func:`atoms_of`, :func:`atom_names`, :func:`short_name`: a flow's
  atoms in order and a step's short name (defined in :mod:`flows.atoms`,
  which imports nothing of ours, because the step base class and
  :mod:`orchestrator.failpoints` use them below the flow modules).

Importing it imports every flow module and nothing of the conductor or
the API (``python -m tools.import_graph`` checks there is no cycle).
"""

from orchestrator import state_machine

from flows.atoms import atom_names
from flows.atoms import atoms_of
from flows.atoms import short_name

from flows import backup
from flows import boot
from flows import change_password
from flows import cleanup
from flows import confirm_resize
from flows import delete
from flows import evacuate
from flows import live_migrate
from flows import migrate
from flows import pause
from flows import reboot
from flows import reboot_hard
from flows import rebuild
from flows import rescue
from flows import resize
from flows import restore
from flows import resume
from flows import revert_resize
from flows import snapshot
from flows import shelve
from flows import shelve_offload
from flows import soft_delete
from flows import start
from flows import stop
from flows import suspend
from flows import trigger_crash_dump
from flows import unpause
from flows import unrescue
from flows import unshelve
from flows import unshelve_on_host

__all__ = ['ACTION_FLOWS', 'STARTED_ACTION_FLOWS', 'all_flow_modules',
           'atom_names', 'atoms_of', 'by_flow_name', 'flow_for',
           'short_name']

#: Actions started through the conductor's ``start_action``, and the flow
#: of each.
STARTED_ACTION_FLOWS = {
    state_machine.STOP: stop,
    state_machine.START: start,
    state_machine.PAUSE: pause,
    state_machine.UNPAUSE: unpause,
    state_machine.SUSPEND: suspend,
    state_machine.RESUME: resume,
    state_machine.REBOOT_SOFT: reboot,
    state_machine.REBOOT_HARD: reboot_hard,
    state_machine.RESCUE: rescue,
    state_machine.UNRESCUE: unrescue,
    state_machine.REBUILD: rebuild,
    state_machine.SNAPSHOT: snapshot,
    state_machine.BACKUP: backup,
    state_machine.CHANGE_PASSWORD: change_password,
    state_machine.TRIGGER_CRASH_DUMP: trigger_crash_dump,
    state_machine.SOFT_DELETE: soft_delete,
    state_machine.RESTORE: restore,
    state_machine.LIVE_MIGRATE: live_migrate,
    state_machine.EVACUATE: evacuate,
    state_machine.RESIZE: resize,
    state_machine.MIGRATE: migrate,
    state_machine.CONFIRM_RESIZE: confirm_resize,
    state_machine.REVERT_RESIZE: revert_resize,
    state_machine.SHELVE: shelve,
    state_machine.SHELVE_OFFLOAD: shelve_offload,
    state_machine.UNSHELVE: unshelve,
    state_machine.UNSHELVE_ON_HOST: unshelve_on_host,
}

#: Every action that claims an instance and runs a flow, and its flow.
ACTION_FLOWS = dict(STARTED_ACTION_FLOWS, **{
    state_machine.BOOT: boot,
    state_machine.DELETE: delete,
})


def flow_for(action_name):
    """The flow module of ``action_name``, or None (an action that runs
    no flow: a reset, a power-state correction, a force delete)."""
    return ACTION_FLOWS.get(action_name)


def all_flow_modules():
    """Every flow module a conductor runs, each once, boot first."""
    modules = [boot, delete, cleanup] + list(STARTED_ACTION_FLOWS.values())
    seen, out = set(), []
    for module in modules:
        if module.FLOW_NAME not in seen:
            seen.add(module.FLOW_NAME)
            out.append(module)
    return out


def by_flow_name(flow_name):
    """The flow module whose FLOW_NAME is ``flow_name``, or None."""
    for module in all_flow_modules():
        if module.FLOW_NAME == flow_name:
            return module
    return None
