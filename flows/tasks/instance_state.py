"""Steps that end a task by moving the instance to its final state."""

from oslo_utils import timeutils

from orchestrator import state_machine
from orchestrator import states

from flows import base


class MarkActive(base.InstanceTask):
    """The guest runs: vm_state active, task_state cleared.

    The task_id stays on the row, so a re-run after a crash (the write
    committed, the logbook did not record it) writes the same again.
    """

    persisted_name = 'flows.tasks.instance_state.MarkActive'

    def execute(self, context, instance_uuid, task_id, power_state):
        instance = self.load_instance(instance_uuid, task_id)
        self.update_instance(
            instance_uuid, task_id, action=state_machine.BOOT,
            vm_state=states.ACTIVE, task_state=None,
            power_state=power_state, progress=100,
            launched_at=instance['launched_at'] or timeutils.utcnow())


class MarkDeleted(base.InstanceTask):
    """The instance is gone: vm_state deleted, the row soft-deleted.

    Re-run after it committed: the CAS finds its own deleted row and
    returns it unchanged.
    """

    persisted_name = 'flows.tasks.instance_state.MarkDeleted'

    def execute(self, context, instance_uuid, task_id):
        self.update_instance(
            instance_uuid, task_id, action=state_machine.DELETE,
            vm_state=states.DELETED, task_state=None,
            power_state=states.NOSTATE)
