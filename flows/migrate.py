"""Cold-migrate a server (admin): the resize flow with the same flavor,
never to the server's own host; an admin may name the host.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid', 'migration_type': 'migration',
                   'new_flavor' (the current flavor), 'requested_host'?}
Starts in: vm_state active or stopped.
Final:     vm_state resized (VERIFY_RESIZE) on the destination.
On revert: as a resize's.
Resume:    forward.
"""

from flows import keys
from flows import resize

FLOW_NAME = keys.MIGRATE_FLOW
RESUME_POLICY = keys.RESUME


def get_flow():
    return resize.build(FLOW_NAME)
