"""Persisted names: the keys of a flow's store and the flows' names
(in logbooks and jobs: fixed; see docs/evolution.md).

Every value is JSON-safe: ids, plain dicts, the request context as a dict.
"""

#: The request context as a dict (orchestrator.context.RequestContext).
CONTEXT = 'context'
#: The instance the flow works on.
INSTANCE_UUID = 'instance_uuid'
#: The claim the flow holds: every state write is a CAS on it.
TASK_ID = 'task_id'
#: The instance action (instance_actions.id) the audit listener writes to.
ACTION_ID = 'action_id'
#: The vm_state the instance had when the flow's claim was made (absent
#: in flows posted before it was kept, and in periodics' flows).
START_VM_STATE = 'start_vm_state'
#: The host a cleanup works on (force delete: the instance is gone).
HOST = 'host'
#: The action's arguments from the request (a dict; {} when it has none),
#: e.g. {'image_ref': ..., 'name': ...} for a rebuild; for a boot, its
#: placement request ({'requested_host': ...} or {}).
PARAMS = 'params'
#: In a rescue's or a changePassword's params: the password sealed with
#: the services' key (:mod:`orchestrator.secret_box`); a password is
#: never in a store.
SEALED_ADMIN_PASSWORD = 'admin_password_sealed'
#: In a rebuild's params: the new user data (2.57) sealed the same way
#: (user data often holds a first-boot secret); ``user_data`` None there
#: removes it.
SEALED_USER_DATA = 'user_data_sealed'
#: Provided by scheduling: the host the instance was placed on (in a
#: boot, the host of the current attempt).
SELECTED_HOST = 'selected_host'
#: Provided by image fetching: the image as a plain dict.
IMAGE = 'image'



def make_store(context, instance_uuid, action_id, task_id=None, host=None,
               params=None, start_vm_state=None):
    """A flow's store: the one function that builds one (the conductor's
    posts, the periodic system actions, the force delete's cleanup).

    :param context: the request context as a dict (``ctxt.to_dict()``).
    The optional values are left out when None (a cleanup has no claim:
    no task_id; a delete has no params). Every value is JSON-safe.
    """
    store = {CONTEXT: context, INSTANCE_UUID: instance_uuid,
             ACTION_ID: action_id}
    for key, value in ((TASK_ID, task_id), (HOST, host), (PARAMS, params),
                       (START_VM_STATE, start_vm_state)):
        if value is not None:
            store[key] = value
    return store


#: Resume policies a flow module declares as RESUME_POLICY.
RESUME = 'resume'
REVERT = 'revert'


# -- values flows provide (in the store once provided) --------------------

#: Provided by a host step: the guest's power state as the host reported it.
POWER_STATE = 'power_state'
#: Provided by a resize's CreateMigration: the migration as a plain dict.
MIGRATION = 'migration'
#: Provided by a claim of a destination (resize, live migration,
#: evacuation): the destination host.
DEST_HOST = 'dest_host'

# -- keys of PARAMS --------------------------------------------------------

#: In a resize's, migration's, live migration's or evacuation's params:
#: the migration record the API created.
MIGRATION_UUID = 'migration_uuid'

# -- flow names (persisted: every logbook and job is named by one) ------

#: Each flow module's FLOW_NAME. Frozen: confirm and revert of a resize
#: lack '-server' (logbooks in flight carry them; see docs/evolution.md).
BOOT_FLOW = 'orchestrator-boot-server'
CLEANUP_FLOW = 'orchestrator-cleanup-server'
CONFIRM_RESIZE_FLOW = 'orchestrator-confirm-resize'
DELETE_FLOW = 'orchestrator-delete-server'
EVACUATE_FLOW = 'orchestrator-evacuate-server'
LIVE_MIGRATE_FLOW = 'orchestrator-live-migrate-server'
MIGRATE_FLOW = 'orchestrator-migrate-server'
PAUSE_FLOW = 'orchestrator-pause-server'
REBOOT_FLOW = 'orchestrator-reboot-server'
REBOOT_HARD_FLOW = 'orchestrator-reboot-hard-server'
REBUILD_FLOW = 'orchestrator-rebuild-server'
RESCUE_FLOW = 'orchestrator-rescue-server'
RESIZE_FLOW = 'orchestrator-resize-server'
RESTORE_FLOW = 'orchestrator-restore-server'
RESUME_FLOW = 'orchestrator-resume-server'
SHELVE_FLOW = 'orchestrator-shelve-server'
SHELVE_OFFLOAD_FLOW = 'orchestrator-shelve-offload-server'
UNSHELVE_FLOW = 'orchestrator-unshelve-server'
UNSHELVE_ON_HOST_FLOW = 'orchestrator-unshelve-on-host-server'
REVERT_RESIZE_FLOW = 'orchestrator-revert-resize'
SNAPSHOT_FLOW = 'orchestrator-snapshot-server'
BACKUP_FLOW = 'orchestrator-backup-server'
CHANGE_PASSWORD_FLOW = 'orchestrator-change-password-server'
TRIGGER_CRASH_DUMP_FLOW = 'orchestrator-trigger-crash-dump-server'
SOFT_DELETE_FLOW = 'orchestrator-soft-delete-server'
START_FLOW = 'orchestrator-start-server'
STOP_FLOW = 'orchestrator-stop-server'
SUSPEND_FLOW = 'orchestrator-suspend-server'
UNPAUSE_FLOW = 'orchestrator-unpause-server'
UNRESCUE_FLOW = 'orchestrator-unrescue-server'
#: The boot flow's subflow of host steps (under its retry).
BOOT_HOST_FLOW = 'orchestrator-boot-server-on-host'
#: The unshelve flow's subflow of host steps (under its retry).
UNSHELVE_HOST_FLOW = 'orchestrator-unshelve-server-on-host'
