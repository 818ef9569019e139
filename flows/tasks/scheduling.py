"""Placing an instance on a host and holding its resources there."""

import logging

from orchestrator import exception
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.scheduler import host_selection

from flows import base
from flows import keys

LOG = logging.getLogger(__name__)


class ScheduleInstance(base.InstanceTask):
    """Pick a host with room and claim the instance's resources on it.

    Re-run: an allocation the instance already holds is reused (nothing is
    claimed twice). The instance's host is set under the claim (CAS).
    Revert: releases the instance's allocations and clears its host if the
    claim still holds; a preempted instance keeps the host field its new
    owner may have set.
    """

    default_provides = keys.SELECTED_HOST

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        held = allocations.list_for_instance(instance_uuid)
        if held:
            host = held[0]['host']
        else:
            allocation = host_selection.select_and_claim(
                instance_uuid, instance_uuid,
                host_selection.resources_of(instance))
            host = allocation['host']
        # Preempted here: the revert of this very task releases the claim.
        self.update_instance(instance_uuid, task_id, host=host, node=host)
        return host

    def revert(self, context, instance_uuid, task_id, **kwargs):
        released = allocations.release(instance_uuid)
        if released:
            LOG.info('Released %d allocation(s) of %s', released,
                     instance_uuid)
        try:
            self.update_instance(instance_uuid, task_id, host=None,
                                 node=None)
        except exception.Preempted:
            pass


class ReleaseResources(base.InstanceTask):
    """Release every allocation of the instance (delete's last host step).

    Idempotent: releasing what is not held does nothing. No revert: a
    delete that failed later keeps nothing to give back.
    """

    def execute(self, context, instance_uuid, task_id):
        self.check_claim(instance_uuid, task_id)
        allocations.release(instance_uuid)


class ReleaseResourcesOfDeleted(base.InstanceTask):
    """Release allocations of an instance that is already deleted.

    Used by cleanups after a force delete, which holds no claim: whatever a
    preempted flow may have claimed after the delete is given back.
    """

    def execute(self, instance_uuid):
        instance = instances.get(instance_uuid, read_deleted=True)
        if not instance['deleted']:
            raise exception.Conflict(
                reason='instance %s is not deleted' % instance_uuid)
        allocations.release(instance_uuid)
