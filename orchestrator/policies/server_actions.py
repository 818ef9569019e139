"""Rules of ``POST /servers/{server_id}/action``, one per action.

Each default comes from the state machine's table: an action the table
marks ``admin_only`` (:data:`orchestrator.state_machine.ACTIONS`) is for
administrators, every other one for members of the server's project and
administrators. The table stays the one place that says which actions
are administrative; a policy file may still override any rule.
"""

from orchestrator import state_machine
from orchestrator.policies import base
from orchestrator.policies import consoles

#: Request body key -> (rule name, state machine action name).
ACTIONS = {
    'os-stop': ('os_compute_api:servers:stop', state_machine.STOP),
    'os-start': ('os_compute_api:servers:start', state_machine.START),
    'reboot': ('os_compute_api:servers:reboot', state_machine.REBOOT_SOFT),
    'pause': ('os_compute_api:os-pause-server:pause', state_machine.PAUSE),
    'unpause': ('os_compute_api:os-pause-server:unpause',
                state_machine.UNPAUSE),
    'suspend': ('os_compute_api:os-suspend-server:suspend',
                state_machine.SUSPEND),
    'resume': ('os_compute_api:os-suspend-server:resume',
               state_machine.RESUME),
    'rescue': ('os_compute_api:os-rescue', state_machine.RESCUE),
    'unrescue': ('os_compute_api:os-unrescue', state_machine.UNRESCUE),
    'rebuild': ('os_compute_api:servers:rebuild', state_machine.REBUILD),
    'createImage': ('os_compute_api:servers:create_image',
                    state_machine.SNAPSHOT),
    'createBackup': ('os_compute_api:os-create-backup',
                     state_machine.BACKUP),
    'changePassword': ('os_compute_api:os-admin-password',
                       state_machine.CHANGE_PASSWORD),
    'trigger_crash_dump': ('os_compute_api:servers:trigger_crash_dump',
                           state_machine.TRIGGER_CRASH_DUMP),
    'resize': ('os_compute_api:servers:resize', state_machine.RESIZE),
    'confirmResize': ('os_compute_api:servers:confirm_resize',
                      state_machine.CONFIRM_RESIZE),
    'revertResize': ('os_compute_api:servers:revert_resize',
                     state_machine.REVERT_RESIZE),
    'restore': ('os_compute_api:os-deferred-delete:restore',
                state_machine.RESTORE),
    'forceDelete': ('os_compute_api:os-deferred-delete:force',
                    state_machine.FORCE_DELETE),
    'migrate': ('os_compute_api:os-migrate-server:migrate',
                state_machine.MIGRATE),
    'os-migrateLive': ('os_compute_api:os-migrate-server:migrate_live',
                       state_machine.LIVE_MIGRATE),
    'evacuate': ('os_compute_api:os-evacuate', state_machine.EVACUATE),
    'os-resetState': ('os_compute_api:os-admin-actions:reset_state',
                      state_machine.RESET_STATE),
    'shelve': ('os_compute_api:os-shelve:shelve', state_machine.SHELVE),
    'shelveOffload': ('os_compute_api:os-shelve:shelve_offload',
                      state_machine.SHELVE_OFFLOAD),
    'unshelve': ('os_compute_api:os-shelve:unshelve',
                 state_machine.UNSHELVE),
}

#: Actions that run no task (no state machine action: a flag the API
#: sets): request body key -> (rule name, default).
FLAG_ACTIONS = {
    'lock': ('os_compute_api:os-lock-server:lock',
             base.PROJECT_MEMBER_OR_ADMIN),
    'unlock': ('os_compute_api:os-lock-server:unlock',
               base.PROJECT_MEMBER_OR_ADMIN),
}

PATH = '/servers/{server_id}/action (%s)'


#: Actions that read and change nothing (a server's consoles): request
#: body key -> rule name (in :mod:`orchestrator.policies.consoles`).
READ_ACTIONS = consoles.ACTIONS


def rule_for(body_key):
    """The rule name of the action ``body_key``, or None."""
    if body_key in READ_ACTIONS:
        return READ_ACTIONS[body_key]
    found = ACTIONS.get(body_key) or FLAG_ACTIONS.get(body_key)
    return found[0] if found else None


def default_for(action_name):
    """ADMIN for the table's admin-only actions, else member or admin."""
    if state_machine.ACTIONS[action_name].admin_only:
        return base.ADMIN
    return base.PROJECT_MEMBER_OR_ADMIN


rules = [
    base.rule(name, default_for(action), 'Server action %s.' % key,
              ('POST', PATH % key))
    for key, (name, action) in sorted(ACTIONS.items())
] + [
    base.rule(name, default, 'Server action %s.' % key,
              ('POST', PATH % key))
    for key, (name, default) in sorted(FLAG_ACTIONS.items())
]


def list_rules():
    return rules
