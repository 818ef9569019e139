"""Steps of soft delete and restore.

A soft-deleted server keeps its guest (powered off), its host and its
resources; ``deleted_at`` records when, for the periodic reclaim. A
server soft-deleted in VERIFY_RESIZE has its resize confirmed first (as
Nova does before a delete): it keeps only its destination's guest and
allocation, never the source's for as long as it stays soft-deleted.
"""

import logging

from oslo_utils import timeutils

from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import migration_records

from flows import base
from flows import keys
from flows.tasks import power
from flows.tasks import resize

LOG = logging.getLogger(__name__)

#: Guest power state before a soft delete -> the operation that puts it
#: back (a guest that was off needs nothing).
RESTORE_OPERATION = {
    states.RUNNING: 'power_on',
    states.POWER_PAUSED: 'pause',
    states.POWER_SUSPENDED: 'suspend',
}


class ConfirmPendingResize(base.InstanceTask):
    """A server in VERIFY_RESIZE (vm_state resized) has its resize or
    cold migration confirmed: the migration confirming, the guest kept
    on the source destroyed, the migration's allocation becomes the
    instance's and the source's is dropped, the migration confirmed and
    vm_state active (stopped if its guest is off), task_state still the
    soft delete's. Anything else: nothing to do. Checks the claim first.
    Provides the uuid of the migration it confirmed (or None).

    Re-run: converges (a confirmed migration is not waiting any more, an
    instance already active has nothing to confirm). Revert: a migration
    still confirming waits again (finished; a destroyed source guest is
    not brought back, as in a confirm's revert); one confirmed stays so,
    and the server stays active on its destination, which is what a
    confirm leaves.
    """

    persisted_name = 'flows.tasks.soft_delete.ConfirmPendingResize'

    default_provides = 'confirmed_migration'

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        migration = resize.waiting_resize(instance_uuid)
        if instance['vm_state'] != states.RESIZED or migration is None:
            return None
        migration_records.set_status(
            migration['uuid'], states.MIGRATION_CONFIRMING,
            from_statuses=[states.MIGRATION_FINISHED])
        resize.destroy_on_source(self.context(context), instance, migration)
        vm_state = resize.finish_confirm(instance, migration)
        self.update_instance(instance_uuid, task_id,
                             action=state_machine.CONFIRM_RESIZE,
                             vm_state=vm_state)
        return migration['uuid']

    def revert(self, context, instance_uuid, task_id, **kwargs):
        migration = resize.waiting_resize(instance_uuid)
        if migration is not None:
            resize.back_to_finished(migration['uuid'],
                                    states.MIGRATION_CONFIRMING)


def _powered_off_already(observed, recorded):
    """True when the guest is off (``observed``) while the row still
    records a power state a revert puts back (``recorded``): the step
    recorded it and powered the guest off before a re-run, so the state
    recorded first is kept."""
    return (observed == states.SHUTDOWN
            and recorded in RESTORE_OPERATION)


class PowerOffForSoftDelete(base.InstanceTask):
    """Power the guest off, remembering its power state before.

    Checks the claim first. A server without a guest (an errored build)
    has nothing to power off. The state before is remembered on the
    instance row (power_state, which power sync leaves alone while a task
    runs) before the host is asked, and the first value wins: a re-run
    (after a crash, or after the host failed part way) finds the guest
    off and the row still naming a state the revert can put back
    (running, paused, suspended), which is what this step recorded, and
    keeps it instead of overwriting it with shutdown; powering off an off
    guest is a no-op. (A guest that shut itself down since the last power
    sync while the row still says running reads the same way: a revert
    then starts it, as the row said it was.) Revert (the flow still owns
    the instance; whether or not the host finished): the guest put back
    in the power state recorded before (an operation that never happened
    leaves it there already).
    """

    persisted_name = 'flows.tasks.soft_delete.PowerOffForSoftDelete'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        if not instance['host']:
            return states.NOSTATE
        ctxt = self.context(context)
        payload = compute_rpcapi.instance_payload(instance)
        before = base.compute_api().get_info(ctxt, instance['host'],
                                             instance_uuid)
        if before is None:
            return states.NOSTATE
        if not _powered_off_already(before, instance['power_state']):
            self.update_instance(instance_uuid, task_id, power_state=before)
        return base.compute_api().set_power_state(ctxt, instance['host'],
                                                  payload, 'power_off')

    def revert(self, context, instance_uuid, task_id, **kwargs):
        power.undo_power(
            self, context, instance_uuid, task_id,
            lambda instance: RESTORE_OPERATION.get(instance['power_state']))


class MarkSoftDeleted(base.InstanceTask):
    """vm_state soft-deleted, ``deleted_at`` now (the reclaim clock),
    task_state cleared. Re-run after it committed: the same write (the
    reclaim clock moves by the time between the two)."""

    persisted_name = 'flows.tasks.soft_delete.MarkSoftDeleted'

    def execute(self, context, instance_uuid, task_id, power_state):
        self.update_instance(
            instance_uuid, task_id, action=state_machine.SOFT_DELETE,
            vm_state=states.SOFT_DELETED, task_state=None,
            power_state=power_state, deleted_at=timeutils.utcnow())


class MarkRestored(base.InstanceTask):
    """vm_state active, ``deleted_at`` cleared, task_state cleared.
    Re-run after it committed writes the same."""

    persisted_name = 'flows.tasks.soft_delete.MarkRestored'

    def execute(self, context, instance_uuid, task_id, power_state):
        self.update_instance(
            instance_uuid, task_id, action=state_machine.RESTORE,
            vm_state=states.ACTIVE, task_state=None,
            power_state=power_state, deleted_at=None)
