"""The step createBackup adds to a snapshot: the rotation of the server's
backups of one type.

A backup is a snapshot (:mod:`flows.tasks.snapshot`) whose image carries
``image_type=backup``, ``backup_type`` and ``instance_uuid``; once it is
active, the backups of the same server, type and project beyond the
newest ``rotation`` are deleted, as Nova does (``rotation`` 0 deletes
them all, the new one included).
"""

import logging

from orchestrator.db import catalog
from orchestrator.db import instances

from flows import base

LOG = logging.getLogger(__name__)


def backups_to_rotate(images, instance_uuid, backup_type, rotation,
                      new_image_id):
    """The ids of ``images`` (newest first) a rotation deletes: active
    backups of ``instance_uuid`` and ``backup_type`` past the newest
    ``rotation`` of them, the new one counted as the newest (whatever the
    clock's resolution says). Images of another server or type, other
    snapshots and backups still being made are never chosen."""
    backups = [image for image in images
               if image['status'] == 'active'
               and (image.get('properties') or {}).get('image_type')
               == 'backup'
               and image['properties'].get('instance_uuid') == instance_uuid
               and image['properties'].get('backup_type') == backup_type]
    backups.sort(key=lambda image: image['id'] != new_image_id)
    return [image['id'] for image in backups[rotation:]]


class RotateBackups(base.InstanceTask):
    """Delete the server's backups of this type beyond ``rotation``
    (params ``image_id``, ``backup_type``, ``rotation``).

    Runs after the backup is active and the task has ended (it changes
    images, not the server, so it needs no claim; a server deleted
    meanwhile still has its backups rotated). Re-run: the list is read
    again and what is left beyond the rotation is deleted, so nothing
    more goes. A rotation that cannot finish leaves older backups, never
    takes the new one away: it logs what it could not delete and the next
    backup of the type deletes it. No revert: a deleted image is gone.
    """

    persisted_name = 'flows.tasks.backup.RotateBackups'

    default_provides = 'rotated'

    def execute(self, context, instance_uuid, task_id, params):
        # The backups are the server's project's (the API made the new
        # one so), whoever owns the server now.
        project_id = instances.get(instance_uuid,
                                   read_deleted=True)['project_id']
        rotation = int(params['rotation'])
        doomed = backups_to_rotate(
            catalog.images_owned_by(project_id, status='active'),
            instance_uuid, params['backup_type'], rotation,
            params['image_id'])
        deleted = []
        for image_id in doomed:
            try:
                if catalog.image_delete(image_id):
                    deleted.append(image_id)
            except Exception:  # noqa: BLE001 - see the docstring
                LOG.warning('Rotation of the %s backups of %s could not '
                            'delete image %s; the next backup will',
                            params['backup_type'], instance_uuid, image_id,
                            exc_info=True)
        if deleted:
            LOG.info('Rotated the %s backups of %s (keeping %d): deleted %s',
                     params['backup_type'], instance_uuid, rotation,
                     ', '.join(deleted))
        return deleted
