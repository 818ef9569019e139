"""The compute agent's RPC endpoint (topic ``compute``, server = host).

The server side of :mod:`orchestrator.compute.rpcapi`: same method names,
same arguments after the request context. Each method hands its work to the
host's driver and inherits the driver's contract: idempotent, keyed by the
instance uuid, so a call repeated after a timeout or a crash converges
instead of failing.

The host never touches the database. What it learns goes back as return
values, or as casts to the conductor (image download progress).

Errors reach the caller typed: an
:class:`orchestrator.exception.OrchestratorError` raised by the driver
(``InjectedFault``, ``Invalid``, ...) arrives as itself, provided the
caller's transport allows the module ``orchestrator.exception``
(:func:`orchestrator.rpc.init` does); any other exception is logged here
with its traceback and arrives as
:class:`orchestrator.exception.ComputeHostError`.
"""

import functools

import oslo_messaging as messaging
from oslo_log import log as logging

from orchestrator.conductor import rpcapi as conductor_rpcapi
from orchestrator import exception
from orchestrator import failpoints

LOG = logging.getLogger(__name__)


def _typed_errors(method):
    """Let orchestrator errors through; turn the rest into
    ComputeHostError. Both count as expected by oslo.messaging, which then
    does not log them again as failures of its own."""

    before = 'compute:%s:before-call' % method.__name__
    after = 'compute:%s:after-call' % method.__name__

    @functools.wraps(method)
    def wrapper(self, ctxt, **kwargs):
        try:
            failpoints.hit(before)
            result = method(self, ctxt, **kwargs)
            failpoints.hit(after)
            return result
        except exception.OrchestratorError as e:
            LOG.warning('%s on %s failed: %s', method.__name__, self.host, e)
            raise
        except Exception as e:
            LOG.exception('%s on %s failed unexpectedly', method.__name__,
                          self.host)
            raise exception.ComputeHostError(
                host=self.host, method=method.__name__,
                reason='%s: %s' % (type(e).__name__, e)) from e

    served = messaging.expected_exceptions(exception.OrchestratorError)(
        wrapper)
    served.rpc_method = True
    return served


class ComputeManager:
    """RPC endpoint of one compute host, delegating to its driver.

    :param host: the host name this agent serves.
    :param driver: a :class:`orchestrator.compute.drivers.base.
        ComputeDriver` already initialised for ``host``.
    """

    target = messaging.Target(version='1.6')

    @classmethod
    def rpc_methods(cls):
        """Names of the methods this endpoint serves, sorted."""
        return sorted(name for name in dir(cls)
                      if getattr(getattr(cls, name), 'rpc_method', False))

    def __init__(self, host, driver):
        self.host = host
        self.driver = driver
        self._conductor = None

    @property
    def conductor(self):
        """The conductor client, made on first use (RPC is set up)."""
        if self._conductor is None:
            self._conductor = conductor_rpcapi.ConductorAPI()
        return self._conductor

    @_typed_errors
    def prepare_networks(self, ctxt, instance):
        """Network info of the plugged ports; a re-run returns the same."""
        return self.driver.prepare_networks(instance)

    @_typed_errors
    def cleanup_networks(self, ctxt, instance):
        """Unplug; a no-op when nothing is plugged."""
        self.driver.cleanup_networks(instance)

    @_typed_errors
    def prepare_block_devices(self, ctxt, instance):
        """The disks' mapping; a re-run returns the disks made before."""
        return self.driver.prepare_block_devices(instance)

    @_typed_errors
    def cleanup_block_devices(self, ctxt, instance):
        """Remove the disks; a no-op when there are none."""
        self.driver.cleanup_block_devices(instance)

    @_typed_errors
    def fetch_image(self, ctxt, instance, image):
        """Cache ``image``, casting progress to the conductor as
        ``report_progress(instance uuid, instance task_id, percent)``.
        A cached image returns at once (one 100% report)."""

        return self.driver.fetch_image(
            instance, image, self._progress_reporter(ctxt, instance))

    def _progress_reporter(self, ctxt, instance):
        """A progress callback casting to the conductor; never raises."""

        def report(percent):
            try:
                self.conductor.report_progress(
                    ctxt, instance['uuid'], instance.get('task_id'),
                    percent)
            except Exception:  # noqa: BLE001 - progress is best effort
                LOG.warning('Could not report progress %s%% of %s',
                            percent, instance['uuid'], exc_info=True)

        return report

    @_typed_errors
    def spawn(self, ctxt, instance, image):
        """The guest's power_state; an existing guest is left as it is."""
        return self.driver.spawn(instance, image)

    @_typed_errors
    def destroy(self, ctxt, instance):
        """True if a guest existed; a missing guest is not an error."""
        return self.driver.destroy(instance)

    @_typed_errors
    def get_info(self, ctxt, instance_uuid):
        """The guest's power_state, or None."""
        return self.driver.get_info(instance_uuid)

    @_typed_errors
    def list_instances(self, ctxt):
        """{instance uuid: power_state} of every guest here."""
        return self.driver.list_instances()

    @_typed_errors
    def set_power_state(self, ctxt, instance, operation):
        """The guest's power state after ``operation`` (idempotent).
        Raises GuestNotFound when the host has no guest of it."""
        return self.driver.set_power_state(instance, operation)

    @_typed_errors
    def rebuild(self, ctxt, instance, image):
        """Re-image the guest from ``image``; it runs. A repeat for the
        same task_id and image re-images nothing and returns the guest's
        power state."""
        return self.driver.rebuild(instance, image)

    @_typed_errors
    def rescue(self, ctxt, instance, image, admin_password):
        """The guest runs from the rescue image; re-run leaves it so."""
        return self.driver.rescue(instance, image, admin_password)

    @_typed_errors
    def unrescue(self, ctxt, instance):
        """The guest runs from its own disk again; re-run leaves it so."""
        return self.driver.unrescue(instance)

    @_typed_errors
    def snapshot(self, ctxt, instance, snapshot_id):
        """Take the local snapshot ``snapshot_id``; re-run returns it."""
        return self.driver.snapshot(instance, snapshot_id)

    @_typed_errors
    def upload_snapshot(self, ctxt, instance, snapshot_id):
        """Upload it, casting progress like :meth:`fetch_image`; re-run
        returns the finished upload at once."""
        return self.driver.upload_snapshot(
            instance, snapshot_id, self._progress_reporter(ctxt, instance))

    @_typed_errors
    def delete_snapshot(self, ctxt, snapshot_id):
        """Forget the snapshot; a no-op when it is gone."""
        self.driver.delete_snapshot(snapshot_id)

    @_typed_errors
    def set_admin_password(self, ctxt, instance, admin_password):
        """The password set in the running guest (1.6); re-run: same."""
        return self.driver.set_admin_password(instance, admin_password)

    @_typed_errors
    def trigger_crash_dump(self, ctxt, instance):
        """An NMI injected (1.6); a re-run for the same task: none."""
        return self.driver.trigger_crash_dump(instance)

    @_typed_errors
    def migrate_disk_and_power_off(self, ctxt, instance, migration_uuid,
                                   dest_host):
        """Source side of a resize: guest off, disk sent. Re-run: same."""
        return self.driver.migrate_disk_and_power_off(
            instance, migration_uuid, dest_host)

    @_typed_errors
    def finish_migration(self, ctxt, instance, migration_uuid, image,
                         power_on):
        """Destination side: the guest created (re-run: left as it is)."""
        return self.driver.finish_migration(instance, migration_uuid,
                                            image, power_on)

    @_typed_errors
    def finish_revert_migration(self, ctxt, instance, migration_uuid,
                                power_on):
        """Source side of a revert: the kept guest in use again."""
        return self.driver.finish_revert_migration(
            instance, migration_uuid, power_on)

    # -- live migration (1.4) -------------------------------------------------
    @_typed_errors
    def check_can_live_migrate_destination(self, ctxt, instance,
                                           migration_uuid, source_host,
                                           block_migration):
        """Destination pre-check; changes nothing."""
        return self.driver.check_can_live_migrate_destination(
            instance, migration_uuid, source_host, block_migration)

    @_typed_errors
    def check_can_live_migrate_source(self, ctxt, instance, migration_uuid,
                                      dest_check):
        """Source pre-check; returns the migrate data."""
        return self.driver.check_can_live_migrate_source(
            instance, migration_uuid, dest_check)

    @_typed_errors
    def pre_live_migration(self, ctxt, instance, migration_uuid,
                           source_host, migrate_data):
        """The incoming guest made here (re-run: the same returned)."""
        return self.driver.pre_live_migration(instance, migration_uuid,
                                              source_host, migrate_data)

    @_typed_errors
    def live_migration(self, ctxt, instance, migration_uuid, dest_host):
        """Copy the guest's memory to ``dest_host``, casting
        ``report_migration_progress`` to the conductor as it goes; the
        guest here stops at the end. Re-run after the copy: at once."""
        return self.driver.live_migration(
            instance, migration_uuid, dest_host,
            self._migration_progress_reporter(ctxt, instance,
                                              migration_uuid))

    def _migration_progress_reporter(self, ctxt, instance, migration_uuid):
        """A live migration's progress callback casting to the conductor;
        never raises."""

        def report(memory_total, memory_processed, memory_remaining):
            try:
                self.conductor.report_migration_progress(
                    ctxt, instance['uuid'], instance.get('task_id'),
                    migration_uuid, memory_total, memory_processed,
                    memory_remaining)
            except Exception:  # noqa: BLE001 - progress is best effort
                LOG.warning('Could not report progress of live migration '
                            '%s', migration_uuid, exc_info=True)

        return report

    @_typed_errors
    def live_migration_abort(self, ctxt, instance, migration_uuid):
        """Stop the running copy at its next step (True if one ran)."""
        return self.driver.live_migration_abort(instance, migration_uuid)

    @_typed_errors
    def rollback_live_migration(self, ctxt, instance, migration_uuid):
        """Source side of a rollback: the guest as before the copy."""
        return self.driver.rollback_live_migration(instance, migration_uuid)

    @_typed_errors
    def rollback_live_migration_at_destination(self, ctxt, instance,
                                               migration_uuid):
        """Destination side of a rollback: the incoming guest removed."""
        return self.driver.rollback_live_migration_at_destination(
            instance, migration_uuid)

    @_typed_errors
    def post_live_migration_at_destination(self, ctxt, instance,
                                           migration_uuid, power_state):
        """The incoming guest takes over in ``power_state``."""
        return self.driver.post_live_migration_at_destination(
            instance, migration_uuid, power_state)

    @_typed_errors
    def post_live_migration(self, ctxt, instance, migration_uuid):
        """The copied guest removed from the source."""
        return self.driver.post_live_migration(instance, migration_uuid)

    @_typed_errors
    def get_console_output(self, ctxt, instance, length=None):
        """The guest's console log, its last ``length`` lines if given."""
        return self.driver.get_console_output(instance, length)
