"""Back a server up into a new image, then rotate its backups
(createBackup).

Store in:  context, instance_uuid, task_id, action_id,
           params {'image_id' (the queued image the API created, with
           image_type=backup, backup_type and instance_uuid),
           'backup_type', 'rotation'}
Starts in: vm_state active, stopped, paused or suspended.
Final:     the image active with size and checksum; vm_state unchanged;
           the server's backups of that type beyond the newest
           ``rotation`` deleted (rotation 0: all, the new one included).
On revert: image deleted, host's snapshot gone, vm_state unchanged, fault;
           no other backup touched (the rotation runs last).
Resume:    revert until the snapshot is uploaded, then forward, as a
           snapshot (:mod:`flows.snapshot`): from FinishSnapshot on only
           the activation and the rotation are left, both idempotent.
"""

from taskflow.patterns import linear_flow

from flows import keys
from flows.tasks import backup
from flows.tasks import snapshot

FLOW_NAME = keys.BACKUP_FLOW
RESUME_POLICY = keys.REVERT
#: Once this step started, a restart finishes the backup and rotates.
POINT_OF_NO_RETURN = 'FinishSnapshot'


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(*snapshot.snapshot_steps(),
                                           backup.RotateBackups())
