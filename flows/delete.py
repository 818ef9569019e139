"""Delete a server: end its migrations, destroy it on every host
involved, release all its resources.

Store in:  context, instance_uuid, task_id, action_id
Starts in: any vm_state, any task_state but deleting (a delete preempts
           whatever runs; the preempted flow's rollback undoes what it
           made, the delete destroys what is left).
Final:     vm_state deleted (row soft-deleted); no migration of it left
           in progress or waiting (cancelled, or error for a live
           migration past its point of no return); no guest on its host
           nor on any host its migrations name that is up (a down one is
           cleaned by power-state reconciliation when it is back); no
           allocation whose instance is this one (its own, its
           migrations'); a shelved server's image deleted.
On revert: vm_state error with a fault (a destroy that failed may have
           left the guest half gone; its migrations stay ended; a
           shelved image already deleted stays so); delete can be asked
           again.
Resume:    forward; every step is idempotent.
"""

from taskflow.patterns import linear_flow

from orchestrator import states

from flows import base
from flows import evolution
from flows import keys
from flows.tasks import host_calls
from flows.tasks import instance_state
from flows.tasks import migrations
from flows.tasks import scheduling
from flows.tasks import shelve

FLOW_NAME = keys.DELETE_FLOW
RESUME_POLICY = keys.RESUME
#: 2: DeleteShelvedImage (a shelved server's image goes with it).
FLOW_VERSION = 2
UPGRADES = (
    evolution.AddedStep(2, name='flows.tasks.shelve.DeleteShelvedImage'),
)


class DeleteToErrorOnRevert(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state error, fault."""

    persisted_name = 'flows.delete.DeleteToErrorOnRevert'

    revert_vm_state = states.ERROR


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        DeleteToErrorOnRevert(),
        migrations.EndMigrationsOfDeleted(),
        host_calls.DestroyOnHost(),
        scheduling.ReleaseResources(),
        # Before MarkDeleted, so that the last step of a delete stays the
        # one that makes it final (a failure after it cannot turn a
        # deleted server into an ERROR one).
        shelve.DeleteShelvedImage(),
        instance_state.MarkDeleted(),
    )
