"""Names of the values in a flow's store (persisted in logbooks: fixed).

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
#: In a rescue's params: the rescue password sealed with the services' key
#: (:mod:`orchestrator.secret_box`); a password is never in a store.
SEALED_ADMIN_PASSWORD = 'admin_password_sealed'
#: Provided by scheduling: the host the instance was placed on (in a
#: boot, the host of the current attempt).
SELECTED_HOST = 'selected_host'
#: Provided by image fetching: the image as a plain dict.
IMAGE = 'image'

#: Resume policies a flow module declares as RESUME_POLICY.
RESUME = 'resume'
REVERT = 'revert'
