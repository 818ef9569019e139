"""Live-migrate a server: its guest moves to another host while it runs.

Store in:  context, instance_uuid, task_id, action_id,
           params {'migration_uuid' (a live-migration record the API
           created, queued), 'host' (requested destination or None),
           'block_migration' (as asked; recorded)}
Starts in: vm_state active or paused, task_state migrating (the API's
           claim checked it).
Final:     the guest runs (or stays paused) on the destination only; the
           instance's host is the destination; the source's claim is
           released and the migration's allocation is the instance's;
           migration completed; vm_state unchanged, task_state NULL.
On revert: before the point of no return (a failure at any step, or an
           abort: DELETE /servers/{id}/migrations/{id} cancels the
           migration): the incoming guest is removed from the destination,
           the source's guest runs as before, the destination claim is
           released, the migration ends failed (cancelled for an abort),
           and the instance stays on the source, vm_state unchanged, with
           a fault. Past it (CommitToDestination): nothing is undone; the
           last steps are retried until they succeed, and only a lost
           claim (preemption) stops them, with the migration in error.
Resume:    revert: a live migration interrupted before its point of no
           return is rolled back as after a failure (the guest keeps
           running on the source; a new request moves it), which is
           quicker and safer than finding out how far a copy that lost
           its conductor got. From it on (once CommitToDestination
           started: it may have committed) it rolls forward: the
           interrupted step runs again (every step converges when re-run).

Steps: claim the destination, check_can_live_migrate_destination and
_source, pre_live_migration (destination), live_migration (source, with
progress), the point of no return, then post_live_migration_at_destination
(the guest runs there), the instance's host switched and the source claim
released, post_live_migration (the source's guest removed), completed.
"""

from taskflow.patterns import linear_flow

from flows import base
from flows import keys
from flows.tasks import live_migrate
from flows.tasks import migrations

FLOW_NAME = keys.LIVE_MIGRATE_FLOW
RESUME_POLICY = keys.REVERT
#: Once this step started, a restart finishes the migration.
POINT_OF_NO_RETURN = 'CommitToDestination'


class LiveMigrationSentinel(base.FinishTaskOnRevert):
    """Sentinel. Revert (the last step of any rollback): the migration
    ends (cancelled after an abort, error past the point of no return,
    else failed), then task_state is cleared with a fault and vm_state
    unchanged (nothing on the instance when the flow was preempted).
    Re-run: the migration's final status stays; the instance is found
    finished already."""

    persisted_name = 'flows.live_migrate.LiveMigrationSentinel'

    def revert(self, context, instance_uuid, task_id, params,
               flow_failures=None, **kwargs):
        migrations.end_on_revert(params[keys.MIGRATION_UUID], flow_failures,
                                 migrations.LIVE_PAST_RETURN)
        super().revert(context, instance_uuid, task_id,
                       flow_failures=flow_failures, **kwargs)


def get_flow():
    """The live migration flow (factory recorded in the logbook)."""
    roll_forward = live_migrate.RollForward()
    forward = linear_flow.Flow(FLOW_NAME + '-forward',
                               retry=roll_forward).add(
        live_migrate.PostLiveMigrationAtDestination(),
        live_migrate.SwitchInstanceHost(),
        live_migrate.PostLiveMigrationAtSource(),
        live_migrate.FinishLiveMigration())
    return linear_flow.Flow(FLOW_NAME).add(
        LiveMigrationSentinel(),
        live_migrate.ClaimLiveMigrationDestination(),
        live_migrate.CheckLiveMigrationDestination(),
        live_migrate.CheckLiveMigrationSource(),
        live_migrate.PreLiveMigration(),
        live_migrate.LiveMigrationOnSource(),
        live_migrate.CommitToDestination(),
        forward)
