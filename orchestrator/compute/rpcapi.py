"""Client side of the compute RPC API (topic ``compute``, server = host).

Every method is a ``call`` with ``[DEFAULT] compute_rpc_timeout_s`` and is
idempotent on the host, keyed by the instance uuid: repeating a call after
a crash or a timeout converges, it does not fail. Arguments are ids and
plain dicts (``instance`` is the dict from :mod:`orchestrator.db.instances`
reduced by :func:`instance_payload`), never ORM objects.

API version history:

* 1.0 - prepare_networks, cleanup_networks, prepare_block_devices,
  cleanup_block_devices, fetch_image, spawn, destroy, get_info,
  list_instances
* 1.1 - set_power_state
* 1.2 - rebuild, rescue, unrescue, snapshot, upload_snapshot,
  delete_snapshot
* 1.3 - migrate_disk_and_power_off, finish_migration,
  finish_revert_migration (resize and cold migration)
* 1.4 - check_can_live_migrate_destination, check_can_live_migrate_source,
  pre_live_migration, live_migration, live_migration_abort,
  rollback_live_migration, rollback_live_migration_at_destination,
  post_live_migration_at_destination, post_live_migration
* 1.5 - get_console_output
* 1.6 - set_admin_password, trigger_crash_dump
"""

import oslo_messaging as messaging
from oslo_config import cfg

from orchestrator import rpc

TOPIC = 'compute'
#: Methods ask for the version that introduced them; VERSION caps them.
BASE_VERSION = '1.0'
VERSION = '1.6'

#: Keys of the instance dict that cross to a host.
PAYLOAD_KEYS = ('uuid', 'display_name', 'hostname', 'flavor', 'vcpus',
                'memory_mb', 'root_gb', 'ephemeral_gb', 'image_ref',
                'task_id', 'project_id', 'user_id', 'metadata',
                'networks')


def instance_payload(instance):
    """The JSON-safe subset of an instance dict a host needs."""
    return {k: instance.get(k) for k in PAYLOAD_KEYS}


#: (transport, client) of :func:`client`.
_CLIENT = (None, None)


def client():
    """The process's compute RPC client on its current transport (flow
    steps and conductor periodics share it).

    Made on first use and again whenever the transport was replaced
    (tests start and stop whole systems in one process).
    """
    global _CLIENT
    transport = rpc.get_transport()
    cached_transport, cached = _CLIENT
    if cached is None or cached_transport is not transport:
        cached = ComputeAPI()
        _CLIENT = (transport, cached)
    return cached


class ComputeAPI:
    """Calls to the compute agent of one host."""

    def __init__(self, timeout=None):
        self._timeout = timeout or cfg.CONF.compute_rpc_timeout_s
        target = messaging.Target(topic=TOPIC, version=BASE_VERSION)
        self._client = rpc.get_client(target, version_cap=VERSION,
                                      timeout=self._timeout)

    def _call(self, ctxt, host, method, version='1.0', timeout=None,
              **kwargs):
        # Each method asks for the version that introduced it, so a host
        # not upgraded yet still serves everything it knows.
        cctxt = self._client.prepare(server=host, version=version,
                                     timeout=timeout or self._timeout)
        return cctxt.call(ctxt, method, **kwargs)

    def prepare_networks(self, ctxt, host, instance):
        """Plug the instance's networks on the host. Returns network info."""
        return self._call(ctxt, host, 'prepare_networks', instance=instance)

    def cleanup_networks(self, ctxt, host, instance):
        """Unplug them; a no-op when nothing is plugged."""
        return self._call(ctxt, host, 'cleanup_networks', instance=instance)

    def prepare_block_devices(self, ctxt, host, instance):
        """Create the instance's disks on the host. Returns their mapping."""
        return self._call(ctxt, host, 'prepare_block_devices',
                          instance=instance)

    def cleanup_block_devices(self, ctxt, host, instance):
        """Remove them; a no-op when there are none."""
        return self._call(ctxt, host, 'cleanup_block_devices',
                          instance=instance)

    def fetch_image(self, ctxt, host, instance, image):
        """Download ``image`` (a dict) into the host's cache for the
        instance, casting progress to the conductor as it goes. Returns
        the cached image's info; a cached image returns at once."""
        return self._call(ctxt, host, 'fetch_image', instance=instance,
                          image=image)

    def spawn(self, ctxt, host, instance, image):
        """Create and start the guest. Returns its power_state; a guest
        already there (re-run) is left as it is and its state returned."""
        return self._call(ctxt, host, 'spawn', instance=instance,
                          image=image)

    def destroy(self, ctxt, host, instance):
        """Stop and remove the guest and its leftovers (disks, networks,
        cache references). Returns True if a guest existed; a guest that
        is already gone is not an error."""
        return self._call(ctxt, host, 'destroy', instance=instance)

    def get_info(self, ctxt, host, instance_uuid):
        """The guest's power_state, or None if the host has no such guest."""
        return self._call(ctxt, host, 'get_info',
                          instance_uuid=instance_uuid)

    def list_instances(self, ctxt, host):
        """{instance uuid: power_state} of every guest on the host."""
        return self._call(ctxt, host, 'list_instances')

    def set_power_state(self, ctxt, host, instance, operation,
                        timeout=None):
        """Apply ``operation`` (power_off, power_on, pause, unpause,
        suspend, resume, reboot, reboot_hard) to the guest; returns its
        power_state. Idempotent: a guest already there is left as it is.
        ``timeout`` overrides the default call timeout (soft reboots)."""
        return self._call(ctxt, host, 'set_power_state', version='1.1',
                          timeout=timeout, instance=instance,
                          operation=operation)

    def rebuild(self, ctxt, host, instance, image):
        """Re-create the guest's root disk from ``image`` (a dict) and
        start it. Returns its power_state. A repeat for the same
        ``instance['task_id']`` and image re-images nothing (it returns the
        guest's power state)."""
        return self._call(ctxt, host, 'rebuild', version='1.2',
                          instance=instance, image=image)

    def rescue(self, ctxt, host, instance, image, admin_password):
        """Run the guest from the rescue ``image`` with its disk attached.
        Returns its power_state; a guest in rescue is left as it is."""
        return self._call(ctxt, host, 'rescue', version='1.2',
                          instance=instance, image=image,
                          admin_password=admin_password)

    def unrescue(self, ctxt, host, instance):
        """Run the guest from its own disk again. Returns its
        power_state; a guest not in rescue is left as it is."""
        return self._call(ctxt, host, 'unrescue', version='1.2',
                          instance=instance)

    def snapshot(self, ctxt, host, instance, snapshot_id):
        """Take the guest's root disk as local snapshot ``snapshot_id``.
        Returns {'size'}; a snapshot already taken is returned again."""
        return self._call(ctxt, host, 'snapshot', version='1.2',
                          instance=instance, snapshot_id=snapshot_id)

    def upload_snapshot(self, ctxt, host, instance, snapshot_id):
        """Upload the snapshot to the image store, casting progress.
        Returns {'size', 'checksum', 'location'}; re-run returns the
        finished upload."""
        return self._call(ctxt, host, 'upload_snapshot', version='1.2',
                          instance=instance, snapshot_id=snapshot_id)

    def delete_snapshot(self, ctxt, host, snapshot_id):
        """Forget the snapshot on the host; a no-op when it is gone."""
        return self._call(ctxt, host, 'delete_snapshot', version='1.2',
                          snapshot_id=snapshot_id)

    def set_admin_password(self, ctxt, host, instance, admin_password):
        """Set the administrator's password in the running guest.
        Returns its power_state; raises GuestNotRunning when it does not
        run. Setting the same password again converges."""
        return self._call(ctxt, host, 'set_admin_password', version='1.6',
                          instance=instance, admin_password=admin_password)

    def trigger_crash_dump(self, ctxt, host, instance):
        """Inject an NMI into the guest. Returns its power_state; a
        repeat for the same ``instance['task_id']`` injects nothing more.
        """
        return self._call(ctxt, host, 'trigger_crash_dump', version='1.6',
                          instance=instance)

    def migrate_disk_and_power_off(self, ctxt, host, instance,
                                   migration_uuid, dest_host):
        """On the source ``host``: power the guest off and send its disk
        to ``dest_host``. Returns its power_state; re-run converges."""
        return self._call(ctxt, host, 'migrate_disk_and_power_off',
                          version='1.3', instance=instance,
                          migration_uuid=migration_uuid,
                          dest_host=dest_host)

    def finish_migration(self, ctxt, host, instance, migration_uuid, image,
                         power_on):
        """On the destination ``host``: create the guest with the flavor
        in ``instance``, started if ``power_on``. Returns its
        power_state; a guest already there is left as it is."""
        return self._call(ctxt, host, 'finish_migration', version='1.3',
                          instance=instance, migration_uuid=migration_uuid,
                          image=image, power_on=power_on)

    def finish_revert_migration(self, ctxt, host, instance, migration_uuid,
                                power_on):
        """On the source ``host``: the guest kept there is in use again,
        started if ``power_on``. Returns its power_state."""
        return self._call(ctxt, host, 'finish_revert_migration',
                          version='1.3', instance=instance,
                          migration_uuid=migration_uuid, power_on=power_on)

    # -- live migration (1.4) -------------------------------------------------
    def check_can_live_migrate_destination(self, ctxt, host, instance,
                                           migration_uuid, source_host,
                                           block_migration):
        """Ask the destination ``host`` whether it can take the guest.
        Returns its answer (a dict); raises MigrationPreCheckError."""
        return self._call(ctxt, host, 'check_can_live_migrate_destination',
                          version='1.4', instance=instance,
                          migration_uuid=migration_uuid,
                          source_host=source_host,
                          block_migration=block_migration)

    def check_can_live_migrate_source(self, ctxt, host, instance,
                                      migration_uuid, dest_check):
        """Ask the source ``host`` whether its guest can go; returns the
        migrate data (a dict)."""
        return self._call(ctxt, host, 'check_can_live_migrate_source',
                          version='1.4', instance=instance,
                          migration_uuid=migration_uuid,
                          dest_check=dest_check)

    def pre_live_migration(self, ctxt, host, instance, migration_uuid,
                           source_host, migrate_data):
        """On the destination ``host``: networks, disks and the incoming
        guest. Returns {'network_info', 'block_device_mapping'}."""
        return self._call(ctxt, host, 'pre_live_migration', version='1.4',
                          instance=instance, migration_uuid=migration_uuid,
                          source_host=source_host,
                          migrate_data=migrate_data)

    def live_migration(self, ctxt, host, instance, migration_uuid,
                       dest_host, timeout=None):
        """On the source ``host``: copy the memory to ``dest_host`` and
        stop the guest here; progress is cast to the conductor. Waits up
        to ``timeout`` seconds (the copy may take long). Raises
        MigrationAborted when aborted."""
        return self._call(ctxt, host, 'live_migration', version='1.4',
                          timeout=timeout, instance=instance,
                          migration_uuid=migration_uuid,
                          dest_host=dest_host)

    def live_migration_abort(self, ctxt, host, instance, migration_uuid):
        """On the source ``host``: stop this migration's running copy.
        Returns True if one ran."""
        return self._call(ctxt, host, 'live_migration_abort', version='1.4',
                          instance=instance, migration_uuid=migration_uuid)

    def rollback_live_migration(self, ctxt, host, instance, migration_uuid):
        """On the source ``host``: the guest as before the copy. Returns
        its power state (None: no guest)."""
        return self._call(ctxt, host, 'rollback_live_migration',
                          version='1.4', instance=instance,
                          migration_uuid=migration_uuid)

    def rollback_live_migration_at_destination(self, ctxt, host, instance,
                                               migration_uuid):
        """On the destination ``host``: the incoming guest removed.
        Returns True if there was one."""
        return self._call(ctxt, host,
                          'rollback_live_migration_at_destination',
                          version='1.4', instance=instance,
                          migration_uuid=migration_uuid)

    def post_live_migration_at_destination(self, ctxt, host, instance,
                                           migration_uuid, power_state):
        """On the destination ``host``: the incoming guest takes over in
        ``power_state``. Returns its power state."""
        return self._call(ctxt, host, 'post_live_migration_at_destination',
                          version='1.4', instance=instance,
                          migration_uuid=migration_uuid,
                          power_state=power_state)

    def post_live_migration(self, ctxt, host, instance, migration_uuid):
        """On the source ``host``: the copied guest removed. Returns True
        if it was still there."""
        return self._call(ctxt, host, 'post_live_migration', version='1.4',
                          instance=instance, migration_uuid=migration_uuid)

    def get_console_output(self, ctxt, host, instance, length=None):
        """The guest's console log (text), its last ``length`` lines when
        given. Reads only."""
        return self._call(ctxt, host, 'get_console_output', version='1.5',
                          instance=instance, length=length)
