"""The contract every virt driver implements.

A driver manages the guests of one compute host. The compute manager calls
it from RPC handler threads, so methods may run concurrently for different
instances; a driver serialises what must be serialised itself.

Rules shared by every method:

* Arguments are plain JSON-safe data. ``instance`` is the dict of
  :func:`orchestrator.compute.rpcapi.instance_payload` (``uuid``,
  ``vcpus``, ``memory_mb``, ``root_gb``, ``ephemeral_gb``, ``image_ref``,
  ``task_id``, ...); ``image`` is a dict with ``id``, ``name`` and
  ``size`` (bytes). Return values are JSON-safe too: they travel back over
  RPC and may be kept in a flow's store.
* Every method is idempotent, keyed by the instance uuid: calling it again
  after it succeeded, failed half way or was interrupted by a crash
  converges to the same end state and does not fail because the work was
  already done.
* Power states are the integers of :mod:`orchestrator.states`
  (``RUNNING``, ``SHUTDOWN``, ...).
* Errors: a driver raises :class:`orchestrator.exception.OrchestratorError`
  subclasses for failures it understands (they reach the RPC caller as
  themselves); anything else is a bug or an unexpected hypervisor failure,
  which the manager reports to the caller as
  :class:`orchestrator.exception.ComputeHostError`.

Drivers are found by name in the ``orchestrator.compute_drivers`` entry
point group and built as ``driver_class(host, conf)``.

More operations will be added here as abstract methods when the flows
that need them exist.
"""

import abc

from orchestrator import states


#: The ``networks`` of an instance that asked for no network (Nova's
#: ``"networks": "none"``, 2.37): what the API stores, and the empty
#: network info its host reports once plugged.
NO_NETWORK = ({'requested': 'none'}, [])


def wants_no_network(instance):
    """True when ``instance`` (a payload) asked for no network: its host
    plugs no port and it gets no address."""
    return instance.get('networks') in NO_NETWORK


class ComputeDriver(abc.ABC):
    """A hypervisor of one compute host.

    :param host: the compute host name this driver serves.
    :param conf: the process's ``oslo_config.cfg.ConfigOpts``, with every
        orchestrator group registered. Read it at call time, never in
        ``__init__`` only, so that overrides apply.
    """

    def __init__(self, host, conf):
        self.host = host
        self.conf = conf

    # -- lifecycle ----------------------------------------------------------
    @abc.abstractmethod
    def init_host(self, host):
        """Get ready to serve ``host``; called when the agent starts.

        Re-run: called again after every restart of the agent and must
        find the guests that survived it. May raise
        :class:`~orchestrator.exception.Invalid` when ``host`` is not the
        host the driver was built for.
        """

    def cleanup_host(self, host):
        """Release what the driver holds; called when the agent stops.

        Calls still blocked inside the driver must return (or raise) soon
        after this. Safe to call more than once; the default does nothing.
        """
        return None

    def register_lifecycle_callback(self, callback):
        """Be told when a guest changes outside the orchestrator.

        A driver whose hypervisor signals such changes (a guest shut down
        from inside, one that vanished or appeared) calls
        ``callback(instance_uuid, power_state)`` after the change, from
        any thread, with the guest's new power state, or None when the
        guest is gone. The callback must not block for long; drivers
        ignore what it raises. The agent answers with a power-state report
        at once instead of at its next interval.

        Registering again replaces the callback; ``None`` removes it. The
        default, for drivers without such events, does nothing: their
        guests are reconciled at the report interval only.
        """
        return None

    @abc.abstractmethod
    def get_available_resources(self):
        """The host's capacity, reported with every heartbeat.

        :returns: ``{'vcpus': int, 'memory_mb': int, 'local_gb': int,
            'hypervisor_type': str}``.
        """

    # -- preparing a guest ----------------------------------------------------
    @abc.abstractmethod
    def prepare_networks(self, instance):
        """Plug the instance's network ports on this host.

        :returns: network info, ``{'network_name': str, 'ip_address': str,
            'ip_version': int, 'mac_address': str}``; ``[]`` (no port)
            for an instance that asked for no network
            (:func:`wants_no_network`).

        Re-run: returns the ports plugged before, unchanged (same address).
        """

    @abc.abstractmethod
    def cleanup_networks(self, instance):
        """Unplug the instance's ports. Returns None.

        Re-run: a no-op when nothing is plugged.
        """

    @abc.abstractmethod
    def prepare_block_devices(self, instance):
        """Create the instance's local disks (root, and ephemeral if any).

        :returns: the block device mapping, ``{device_name: {'kind':
            'root' | 'ephemeral', 'size_gb': int}}``.

        Re-run: returns the disks created before, unchanged.
        """

    @abc.abstractmethod
    def cleanup_block_devices(self, instance):
        """Delete the instance's local disks. Returns None.

        Re-run: a no-op when there are none.
        """

    @abc.abstractmethod
    def fetch_image(self, instance, image, progress_cb):
        """Download ``image`` into the host's image cache for ``instance``.

        :param progress_cb: called with an int percentage (0-100) as the
            download advances; it must not raise (callers make it safe).
        :returns: the cache entry, ``{'image_id', 'name', 'size',
            'location'}``.

        Re-run: an image already cached returns at once (after one
        ``progress_cb(100)``); the instance is recorded as a user of it.
        """

    # -- the guest itself -----------------------------------------------------
    @abc.abstractmethod
    def spawn(self, instance, image):
        """Create and start the guest of ``instance`` from ``image``.

        :returns: the guest's power state (``states.RUNNING`` when it
            started).

        Re-run: a guest that already exists is left as it is and its
        current power state returned.
        """

    @abc.abstractmethod
    def destroy(self, instance):
        """Stop and remove the guest and everything it left on the host:
        disks, network ports, its references in the image cache.

        :returns: True if a guest existed, False if it was already gone
            (leftovers are removed either way).
        """

    @abc.abstractmethod
    def get_info(self, instance_uuid):
        """The power state of the guest, or None if this host has none."""

    @abc.abstractmethod
    def get_console_output(self, instance, length=None):
        """The guest's console log as text (``''`` when it printed
        nothing yet), its last ``length`` lines when ``length`` is given
        (None: all the driver keeps). Reads only: a re-run returns the
        log as it is then.

        :raises orchestrator.exception.GuestNotFound: the host has no guest
            of the instance.
        """

    @abc.abstractmethod
    def list_instances(self):
        """``{instance uuid: power state}`` of every guest on this host."""

    # -- power ----------------------------------------------------------------
    @abc.abstractmethod
    def set_power_state(self, instance, operation):
        """Apply a power ``operation`` to the guest of ``instance``.

        :param operation: one of :data:`POWER_OPERATIONS`: ``power_off``,
            ``power_on``, ``pause``, ``unpause``, ``suspend``, ``resume``,
            ``reboot`` (soft) or ``reboot_hard``.
        :returns: the guest's power state afterwards.
        :raises orchestrator.exception.GuestNotFound: the host has no guest
            of the instance.

        Re-run: a guest already in the operation's resulting state is left
        as it is (a reboot reboots again, which converges on RUNNING).
        """

    # -- rebuild, rescue, snapshot ----------------------------------------
    @abc.abstractmethod
    def rebuild(self, instance, image):
        """Re-create the guest's root disk from ``image`` and start it;
        its networks and other disks stay.

        :returns: the guest's power state (``states.RUNNING``).
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a repeat for the same ``instance['task_id']`` and image
        finds the guest already rebuilt by that task and re-images nothing
        (the driver remembers the task and image of the last rebuild); it
        returns the guest's power state as it is now.
        """

    @abc.abstractmethod
    def rescue(self, instance, image, admin_password):
        """Boot the guest from the rescue ``image`` with its own disk
        attached, the rescue system's password set to ``admin_password``.

        :returns: the guest's power state (``states.RUNNING``).
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a guest already in rescue is left as it is.
        """

    @abc.abstractmethod
    def unrescue(self, instance):
        """Boot the guest from its own disk again, rescue image gone.

        :returns: the guest's power state (``states.RUNNING``).
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a guest not in rescue is started if needed, else left.
        """

    @abc.abstractmethod
    def snapshot(self, instance, snapshot_id):
        """Capture the guest's root disk as the local snapshot
        ``snapshot_id`` (the id of the image it will become).

        :returns: ``{'size': bytes}`` of the snapshot.
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a snapshot already taken is returned unchanged.
        """

    @abc.abstractmethod
    def upload_snapshot(self, instance, snapshot_id, progress_cb):
        """Upload the local snapshot to the image store, calling
        ``progress_cb(percent)`` as it goes.

        :returns: ``{'size': bytes, 'checksum': md5 hex, 'location': str}``.
        :raises orchestrator.exception.Invalid: no such local snapshot.

        Re-run: an upload already done returns its result at once.
        """

    @abc.abstractmethod
    def delete_snapshot(self, snapshot_id):
        """Forget the snapshot, local and uploaded. Returns None.

        Re-run: a no-op when it is gone.
        """

    # -- guest agent and diagnostics ----------------------------------------
    @abc.abstractmethod
    def set_admin_password(self, instance, admin_password):
        """Set the administrator's password inside the running guest.
        The driver never keeps the password itself (at most a one-way
        hash, for tests) and never logs it.

        :returns: the guest's power state.
        :raises orchestrator.exception.GuestNotFound: no guest here.
        :raises orchestrator.exception.GuestNotRunning: the guest does not
            run (its agent cannot be reached).

        Re-run: setting the same password again converges.
        """

    @abc.abstractmethod
    def trigger_crash_dump(self, instance):
        """Inject a non-maskable interrupt into the guest, whose kernel
        then dumps its memory (kdump) and usually reboots.

        :returns: the guest's power state.
        :raises orchestrator.exception.GuestNotFound: no guest here.
        :raises orchestrator.exception.GuestNotRunning: the guest is shut
            down (an NMI needs a running or paused guest).

        Re-run: a repeat for the same ``instance['task_id']`` injects
        nothing more (one request, one NMI).
        """

    # -- resize and cold migration ------------------------------------------
    @abc.abstractmethod
    def migrate_disk_and_power_off(self, instance, migration_uuid,
                                   dest_host):
        """On the source: power the guest off and send its disk to
        ``dest_host``; the guest stays here, off, until the migration is
        confirmed (destroyed then) or reverted (started again then).

        :returns: the guest's power state here (``states.SHUTDOWN``).
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a guest already sent is left as it is.
        """

    @abc.abstractmethod
    def finish_migration(self, instance, migration_uuid, image, power_on):
        """On the destination: create the guest from the disk received,
        with the flavor in ``instance`` (the new one for a resize), and
        start it if ``power_on``. Networks and disks were prepared here
        before (prepare_networks, prepare_block_devices).

        :returns: the guest's power state here.

        Re-run: a guest already created is left as it is.
        """

    @abc.abstractmethod
    def finish_revert_migration(self, instance, migration_uuid, power_on):
        """On the source, when a migration is reverted: the guest kept
        here is in use again, started if ``power_on``.

        :returns: the guest's power state here.
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: converges on the same state.
        """

    # -- live migration -------------------------------------------------------
    # The guest moves while it runs. The destination first receives an
    # incoming guest (not running), the source copies the memory and stops
    # its guest; the destination's guest then takes over (the point of no
    # return) and the source's is removed. Until the point of no return
    # every step is undone by rollback_live_migration (source) and
    # rollback_live_migration_at_destination. Every method is keyed by the
    # instance uuid and the migration's uuid.
    @abc.abstractmethod
    def check_can_live_migrate_destination(self, instance, migration_uuid,
                                           source_host, block_migration):
        """On the destination: can it take the guest from ``source_host``?

        :param block_migration: True, False or ``'auto'`` as the client
            asked (recorded; a driver without shared storage copies the
            disks either way).
        :returns: what the destination found, a dict passed on to
            :meth:`check_can_live_migrate_source` (at least
            ``{'dest_host': str, 'block_migration': ...}``).
        :raises orchestrator.exception.MigrationPreCheckError: it cannot.

        Changes nothing; re-run answers the same.
        """

    @abc.abstractmethod
    def check_can_live_migrate_source(self, instance, migration_uuid,
                                      dest_check):
        """On the source: can its guest go to the destination that
        answered ``dest_check``?

        :returns: the migrate data, ``dest_check`` plus at least
            ``{'source_host': str, 'memory_total': bytes}``.
        :raises orchestrator.exception.GuestNotFound: no guest here.
        :raises orchestrator.exception.MigrationPreCheckError: the guest
            cannot be live-migrated (it does not run).

        Changes nothing; re-run answers the same.
        """

    @abc.abstractmethod
    def pre_live_migration(self, instance, migration_uuid, source_host,
                           migrate_data):
        """On the destination: plug the instance's networks, create its
        disks and make the incoming guest, which does not run yet.

        :returns: ``{'network_info': {...}, 'block_device_mapping':
            {...}}`` as prepare_networks and prepare_block_devices return.
        :raises orchestrator.exception.MigrationPreCheckError: this host
            has a guest of the instance that is not this migration's.

        Re-run: returns what was made before, unchanged.
        """

    @abc.abstractmethod
    def live_migration(self, instance, migration_uuid, dest_host,
                       progress_cb):
        """On the source: copy the guest's memory to ``dest_host``, then
        stop the guest here (it does not run anywhere until
        :meth:`post_live_migration_at_destination`).

        :param progress_cb: called as ``progress_cb(memory_total,
            memory_processed, memory_remaining)`` (bytes) as the copy
            advances; it must not raise (callers make it safe).
        :returns: ``{'memory_total', 'memory_processed',
            'memory_remaining'}`` at the end.
        :raises orchestrator.exception.MigrationAborted: an abort
            (:meth:`live_migration_abort`) was seen; the guest still runs
            here.
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a copy already finished returns at once.
        """

    @abc.abstractmethod
    def live_migration_abort(self, instance, migration_uuid):
        """On the source: make the running copy of this migration stop at
        its next step with MigrationAborted. A copy that is not running
        here (not started, or over) is not affected: the flow, which
        records the abort first, stops or undoes it itself.

        :returns: True if a copy of it was running here.

        Re-run: the abort stays asked for until the rollback forgets it.
        """

    @abc.abstractmethod
    def rollback_live_migration(self, instance, migration_uuid):
        """On the source, when the migration is undone: its guest is back
        in the power state it had before the copy, no longer migrating,
        and an abort asked for the migration is forgotten.

        :returns: the guest's power state, or None if there is no guest.

        Re-run (or a migration that never started here): nothing changes.
        """

    @abc.abstractmethod
    def rollback_live_migration_at_destination(self, instance,
                                               migration_uuid):
        """On the destination, when the migration is undone: the incoming
        guest, its networks and disks are removed.

        :returns: True if an incoming guest was removed. A guest of the
            instance that is not this migration's incoming guest is left
            alone, and so are its networks and disks.

        Re-run: nothing left to remove, returns False.
        """

    @abc.abstractmethod
    def post_live_migration_at_destination(self, instance, migration_uuid,
                                           power_state):
        """On the destination, past the point of no return: the incoming
        guest becomes the instance's guest, in ``power_state``
        (``states.RUNNING`` or ``states.POWER_PAUSED``).

        :returns: the guest's power state.
        :raises orchestrator.exception.GuestNotFound: no guest here.

        Re-run: a guest that took over already is left as it is.
        """

    @abc.abstractmethod
    def post_live_migration(self, instance, migration_uuid):
        """On the source, after the destination took over: the stopped
        guest, its networks, disks and image cache references are removed.

        :returns: True if the guest was removed.
        :raises orchestrator.exception.Invalid: the guest here is not the
            one this migration stopped (it is left alone).

        Re-run: only leftovers are removed, returns False.
        """


#: Power operations and the power state each leaves a guest in.
POWER_OPERATIONS = {
    'power_off': states.SHUTDOWN,
    'power_on': states.RUNNING,
    'pause': states.POWER_PAUSED,
    'unpause': states.RUNNING,
    'suspend': states.POWER_SUSPENDED,
    'resume': states.RUNNING,
    'reboot': states.RUNNING,
    'reboot_hard': states.RUNNING,
}
