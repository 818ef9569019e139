"""A fake hypervisor whose guests live in a JSON file per host.

``FakeDriver(host, conf, state_dir=None)`` keeps the guests of ``host`` and
what they use (plugged networks, disks, image cache) in
``<state_dir>/<host>.json`` (format in :mod:`.fake_host_file`), where
``state_dir`` defaults to ``<[DEFAULT] state_path>/fake-hosts``. Nothing is
kept in memory: a restarted host, or a second driver object on the same
directory, knows the same guests, and several hosts in one process each
have their own file.

For tests and demos every method

* counts its invocations in the file (``"calls": {"spawn": 3}``), before
  it does anything, so a call that then fails or crashes is counted too;
* obeys the delays and faults of :mod:`.fake_faults` (configuration, and
  the run-time file ``<state_dir>/<host>.faults.json``).

The ``emulate_*`` methods change guests as the world outside the
orchestrator would (a guest shut down from inside, one that vanished, one
left behind) and fire the lifecycle callback, so tests and demos can drive
power-state reconciliation.

Network info is a deterministic fake IPv4 address: ``10.H.x.y``, where
``H`` is derived from the host name and ``x.y`` from a counter in the host
file, so addresses never repeat on one host (up to 65024 of them) and
differ between hosts unless their names hash to the same ``H``.
"""

import contextlib
import datetime
import hashlib
import os
import zlib

from oslo_log import log as logging

from orchestrator.compute.drivers import base
from orchestrator.compute.drivers import fake_console
from orchestrator.compute.drivers import fake_faults
from orchestrator.compute.drivers import fake_host_file
from orchestrator import exception
from orchestrator import states

LOG = logging.getLogger(__name__)

HYPERVISOR_TYPE = 'fake'
NETWORK_NAME = 'private'
ROOT_DEVICE = '/dev/vda'
EPHEMERAL_DEVICE = '/dev/vdb'


def default_state_dir(conf):
    """``<[DEFAULT] state_path>/fake-hosts``."""
    return os.path.join(conf.state_path, 'fake-hosts')


def fake_ipv4_address(host, index):
    """The ``index``-th address handed out on ``host``."""
    host_octet = zlib.crc32(host.encode('utf-8')) % 256
    return '10.%d.%d.%d' % (host_octet, index // 254 % 256, index % 254 + 1)


def fake_mac_address(instance_uuid):
    """A stable MAC address in OpenStack's fa:16:3e prefix."""
    tail = hashlib.sha256(instance_uuid.encode('utf-8')).digest()[:3]
    return 'fa:16:3e:' + ':'.join('%02x' % b for b in tail)


def _instance_uuid(instance):
    if not isinstance(instance, dict) or not instance.get('uuid'):
        raise exception.Invalid(reason='instance must be a dict with a '
                                       'uuid, not %r' % (instance,))
    return instance['uuid']


def _image_id(image):
    if not isinstance(image, dict) or not image.get('id'):
        raise exception.Invalid(reason='image must be a dict with an id, '
                                       'not %r' % (image,))
    return image['id']


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def _guest_record(instance, image_id, state, power_state=states.RUNNING):
    """A new guest of ``instance`` as the host file keeps it."""
    return {'power_state': power_state,
            'display_name': instance.get('display_name'),
            'image_id': image_id,
            'vcpus': instance.get('vcpus'),
            'memory_mb': instance.get('memory_mb'),
            'root_gb': instance.get('root_gb'),
            'ephemeral_gb': instance.get('ephemeral_gb'),
            'network_info': state['networks'].get(instance['uuid']),
            'created_at': _now()}


def _set_flavor(guest, instance):
    """The guest takes the flavor values of ``instance``."""
    for key in ('vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb'):
        guest[key] = instance.get(key)


def _create_disks(state, instance):
    """Disks of ``instance`` in ``state`` (made if missing)."""
    mapping = state['block_devices'].get(instance['uuid'])
    if mapping is None:
        mapping = {ROOT_DEVICE: {'kind': 'root',
                                 'size_gb': int(instance.get('root_gb')
                                                or 0)}}
        if instance.get('ephemeral_gb'):
            mapping[EPHEMERAL_DEVICE] = {
                'kind': 'ephemeral', 'size_gb': int(instance['ephemeral_gb'])}
        state['block_devices'][instance['uuid']] = mapping
    return mapping


def _remove_guest_and_leftovers(state, uuid):
    """Drop the guest of ``uuid``, its disks, ports and image cache
    references from ``state``; True if there was a guest."""
    existed = state['guests'].pop(uuid, None) is not None
    state['networks'].pop(uuid, None)
    state['block_devices'].pop(uuid, None)
    for entry in state['image_cache'].values():
        if uuid in entry['users']:
            entry['users'].remove(uuid)
    return existed


def _live_migration_mark(guest, migration_uuid, role):
    """The guest's mark of live migration ``migration_uuid`` in ``role``
    ('source' or 'destination'), or None."""
    mark = (guest or {}).get('live_migration')
    if mark and mark['uuid'] == migration_uuid and mark['role'] == role:
        return mark
    return None


def _memory_bytes(instance):
    return int(instance.get('memory_mb') or 0) * 1024 * 1024


class FakeDriver(base.ComputeDriver):
    """Guests as records in a file; see the module docstring.

    :param host: the compute host name (the file is ``<host>.json``).
    :param conf: the configuration; ``[compute] vcpus/memory_mb/disk_gb``
        and ``[fake_driver]`` are read at call time.
    :param state_dir: directory of the host files; defaults to
        :func:`default_state_dir`. Tests pass a ``tmp_path``.
    """

    def __init__(self, host, conf, state_dir=None):
        super().__init__(host, conf)
        self.state_dir = state_dir or default_state_dir(conf)
        self.host_file = fake_host_file.HostFile(self.state_dir, host)
        self.faults = fake_faults.FaultInjector(host, self.state_dir, conf)
        self._lifecycle_callback = None

    def host_state(self):
        """A copy of everything the host file holds (for tests)."""
        return self.host_file.read()

    @contextlib.contextmanager
    def _driver_call(self, method, sleep_delay=True):
        """Count the call, then apply its delay and fault around it."""
        with self.host_file.change() as state:
            state['calls'][method] = state['calls'].get(method, 0) + 1
        with self.faults.around(method, sleep_delay=sleep_delay) as plan:
            yield plan

    # -- lifecycle ----------------------------------------------------------
    def init_host(self, host):
        """Create the host file if needed; report the guests it holds."""
        if host != self.host:
            raise exception.Invalid(reason='fake driver built for host %s '
                                           'cannot serve %s'
                                           % (self.host, host))
        self.faults.start()
        with self._driver_call('init_host'):
            guests = self.host_file.read()['guests']
        LOG.info('Fake host %s starts with %d guest(s) (state in %s)',
                 host, len(guests), self.host_file.path)

    def cleanup_host(self, host):
        """Wake every call hanging or sleeping in this driver."""
        self.faults.stop()

    def get_available_resources(self):
        """Capacity from ``[compute] vcpus, memory_mb, disk_gb``."""
        with self._driver_call('get_available_resources'):
            compute = self.conf.compute
            return {'vcpus': compute.vcpus, 'memory_mb': compute.memory_mb,
                    'local_gb': compute.disk_gb,
                    'hypervisor_type': HYPERVISOR_TYPE}

    # -- networks -------------------------------------------------------------
    def prepare_networks(self, instance):
        """Give the instance the next fake address; re-run returns it."""
        _instance_uuid(instance)
        with self._driver_call('prepare_networks'):
            with self.host_file.change() as state:
                return self._plug_networks(state, instance)

    def _plug_networks(self, state, instance):
        """Ports of ``instance`` in ``state`` (made if missing)."""
        uuid = instance['uuid']
        if base.wants_no_network(instance):
            return []
        info = state['networks'].get(uuid)
        if info is None:
            index = state['next_address_index']
            state['next_address_index'] = index + 1
            info = {'network_name': NETWORK_NAME,
                    'ip_address': fake_ipv4_address(self.host, index),
                    'ip_version': 4,
                    'mac_address': fake_mac_address(uuid)}
            state['networks'][uuid] = info
        if uuid in state['guests']:
            state['guests'][uuid]['network_info'] = info
        return info

    def cleanup_networks(self, instance):
        uuid = _instance_uuid(instance)
        with self._driver_call('cleanup_networks'):
            with self.host_file.change() as state:
                state['networks'].pop(uuid, None)
                if uuid in state['guests']:
                    state['guests'][uuid]['network_info'] = None

    # -- disks ----------------------------------------------------------------
    def prepare_block_devices(self, instance):
        """A root disk of ``root_gb`` and, if any, an ephemeral disk."""
        _instance_uuid(instance)
        with self._driver_call('prepare_block_devices'):
            with self.host_file.change() as state:
                return _create_disks(state, instance)

    def cleanup_block_devices(self, instance):
        uuid = _instance_uuid(instance)
        with self._driver_call('cleanup_block_devices'):
            with self.host_file.change() as state:
                state['block_devices'].pop(uuid, None)

    # -- images ---------------------------------------------------------------
    def fetch_image(self, instance, image, progress_cb):
        """Pretend to download in ``[fake_driver] image_fetch_steps``
        steps, spreading the method's delay over them."""
        uuid = _instance_uuid(instance)
        image_id = _image_id(image)
        with self._driver_call('fetch_image', sleep_delay=False) as plan:
            cached = image_id in self.host_file.read()['image_cache']
            if cached:
                progress_cb(100)
            else:
                steps = self.conf.fake_driver.image_fetch_steps
                for step in range(1, steps + 1):
                    if plan.delay_s:
                        self.faults.wait('fetch_image', plan.delay_s / steps)
                    progress_cb(step * 100 // steps)
            with self.host_file.change() as state:
                entry = state['image_cache'].setdefault(image_id, {
                    'image_id': image_id,
                    'name': image.get('name'),
                    'size': image.get('size'),
                    'location': 'fake://%s/images/%s' % (self.host,
                                                         image_id),
                    'users': []})
                if uuid not in entry['users']:
                    entry['users'].append(uuid)
            return {k: v for k, v in entry.items() if k != 'users'}

    # -- guests ---------------------------------------------------------------
    def spawn(self, instance, image):
        """Record a RUNNING guest; an existing guest is left as it is."""
        uuid = _instance_uuid(instance)
        image_id = _image_id(image)
        with self._driver_call('spawn'):
            with self.host_file.change() as state:
                guest = state['guests'].get(uuid)
                if guest is None:
                    guest = _guest_record(instance, image_id, state)
                    fake_console.boot(guest, instance,
                                      'Booting from image %s' % image_id)
                    state['guests'][uuid] = guest
                    cached = state['image_cache'].get(image_id)
                    if cached and uuid not in cached['users']:
                        cached['users'].append(uuid)
            return guest['power_state']

    def destroy(self, instance):
        """Remove the guest, its disks, ports and image cache references."""
        uuid = _instance_uuid(instance)
        with self._driver_call('destroy'):
            with self.host_file.change() as state:
                existed = state['guests'].pop(uuid, None) is not None
                state['networks'].pop(uuid, None)
                state['block_devices'].pop(uuid, None)
                for entry in state['image_cache'].values():
                    if uuid in entry['users']:
                        entry['users'].remove(uuid)
            return existed

    def get_info(self, instance_uuid):
        with self._driver_call('get_info'):
            guest = self.host_file.read()['guests'].get(instance_uuid)
            return None if guest is None else guest['power_state']

    def get_console_output(self, instance, length=None):
        """The guest's console log (:mod:`.fake_console`)."""
        uuid = _instance_uuid(instance)
        with self._driver_call('get_console_output'):
            guest = self.host_file.read()['guests'].get(uuid)
            if guest is None:
                raise exception.GuestNotFound(host=self.host,
                                              instance_uuid=uuid)
            return fake_console.output(guest, length)

    def list_instances(self):
        with self._driver_call('list_instances'):
            guests = self.host_file.read()['guests']
            return {uuid: guest['power_state']
                    for uuid, guest in guests.items()}

    # -- changes from outside the orchestrator (tests and demos) -------------
    def register_lifecycle_callback(self, callback):
        """Keep ``callback`` (None: forget it); the ``emulate_*`` methods
        call it after their change is written (base class contract)."""
        self._lifecycle_callback = callback

    def _signal(self, instance_uuid, power_state):
        callback = self._lifecycle_callback
        if callback is None:
            return
        try:
            callback(instance_uuid, power_state)
        except Exception:  # noqa: BLE001 - an event is best effort
            LOG.warning('Lifecycle callback of %s failed for %s',
                        self.host, instance_uuid, exc_info=True)

    def emulate_guest_power_change(self, instance_uuid, power_state):
        """The guest changed power state by itself or by someone on the
        host (shut down from inside, crashed, paused or resumed by hand):
        it is ``power_state`` now, and the lifecycle callback is told.

        Neither counted nor subject to injected faults: it is not a call
        the orchestrator makes. Re-run: writes and signals the same again.

        :raises orchestrator.exception.GuestNotFound: no such guest here.
        :raises orchestrator.exception.Invalid: not a power state.
        """
        if power_state not in states.POWER_STATES:
            raise exception.Invalid(reason='%r is not a power state'
                                           % (power_state,))
        with self.host_file.change() as state:
            guest = state['guests'].get(instance_uuid)
            if guest is None:
                raise exception.GuestNotFound(host=self.host,
                                              instance_uuid=instance_uuid)
            guest['power_state'] = power_state
        self._signal(instance_uuid, power_state)

    def emulate_guest_vanished(self, instance_uuid):
        """The hypervisor lost the guest: its record goes, its disks,
        ports and image cache references stay behind (a later destroy
        removes them), and the callback is told (power state None).

        :returns: True if there was a guest. Re-run: False, and no signal.
        """
        with self.host_file.change() as state:
            existed = state['guests'].pop(instance_uuid, None) is not None
        if existed:
            self._signal(instance_uuid, None)
        return existed

    def emulate_leftover_guest(self, instance, power_state=states.RUNNING):
        """A guest of ``instance`` (an instance payload) is on this host
        without the orchestrator having made it: left behind by a delete
        whose host step was lost, or a vanished guest that came back. It
        is ``power_state``, and the callback is told.

        Re-run: the guest already there keeps its record; its power state
        is set again and signalled again.
        """
        uuid = _instance_uuid(instance)
        if power_state not in states.POWER_STATES:
            raise exception.Invalid(reason='%r is not a power state'
                                           % (power_state,))
        with self.host_file.change() as state:
            guest = state['guests'].get(uuid)
            if guest is None:
                guest = _guest_record(instance, instance.get('image_ref'),
                                      state, power_state)
                state['guests'][uuid] = guest
            guest['power_state'] = power_state
        self._signal(uuid, power_state)

    # -- power ----------------------------------------------------------------
    def set_power_state(self, instance, operation):
        """Move the guest to the operation's power state (re-run: same)."""
        target = base.POWER_OPERATIONS.get(operation)
        if target is None:
            raise exception.Invalid(reason='unknown power operation %r'
                                           % operation)
        uuid = _instance_uuid(instance)
        with self._driver_call(operation):
            with self.host_file.change() as state:
                guest = state['guests'].get(uuid)
                if guest is None:
                    raise exception.GuestNotFound(host=self.host,
                                                  instance_uuid=uuid)
                # A re-run finds the guest there already: no new lines
                # (a reboot reboots again, and says so).
                if guest['power_state'] != target or operation in (
                        'reboot', 'reboot_hard'):
                    fake_console.power(guest, instance, operation)
                guest['power_state'] = target
            return target

    # -- rebuild, rescue, snapshot ------------------------------------------
    def _guest_or_raise(self, state, uuid):
        guest = state['guests'].get(uuid)
        if guest is None:
            raise exception.GuestNotFound(host=self.host, instance_uuid=uuid)
        return guest

    def rebuild(self, instance, image):
        """The guest's image becomes ``image``; it runs. Counts the
        re-imaging in ``guest['rebuilds']`` and marks the guest with the
        task and image of its last rebuild (``guest['last_rebuild']``):
        a re-run for the same task_id and image re-images nothing and
        returns the guest's power state as it is now."""
        uuid = _instance_uuid(instance)
        image_id = _image_id(image)
        mark = {'task_id': instance.get('task_id'), 'image_id': image_id}
        with self._driver_call('rebuild'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                if mark['task_id'] and guest.get('last_rebuild') == mark:
                    return guest['power_state']
                old_image = guest.get('image_id')
                if old_image and old_image != image_id:
                    cached = state['image_cache'].get(old_image)
                    if cached and uuid in cached['users']:
                        cached['users'].remove(uuid)
                cached = state['image_cache'].get(image_id)
                if cached and uuid not in cached['users']:
                    cached['users'].append(uuid)
                guest['image_id'] = image_id
                guest['display_name'] = instance.get('display_name')
                guest['rebuilds'] = guest.get('rebuilds', 0) + 1
                guest['last_rebuild'] = mark
                guest['power_state'] = states.RUNNING
                fake_console.boot(guest, instance,
                                  'Rebuilt from image %s' % image_id)
            return states.RUNNING

    def rescue(self, instance, image, admin_password):
        """The guest runs from the rescue image; only a hash of the
        password is kept."""
        uuid = _instance_uuid(instance)
        image_id = _image_id(image)
        digest = hashlib.sha256(
            (admin_password or '').encode('utf-8')).hexdigest()
        with self._driver_call('rescue'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                if guest.get('rescue') is None:
                    guest['rescue'] = {'image_id': image_id,
                                       'password_sha256': digest}
                    fake_console.boot(guest, instance,
                                      'Booting from rescue image %s'
                                      % image_id)
                guest['power_state'] = states.RUNNING
            return states.RUNNING

    def unrescue(self, instance):
        uuid = _instance_uuid(instance)
        with self._driver_call('unrescue'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                if guest.get('rescue') is not None:
                    fake_console.boot(guest, instance,
                                      'Booting from the root disk')
                guest['rescue'] = None
                guest['power_state'] = states.RUNNING
            return states.RUNNING

    def snapshot(self, instance, snapshot_id):
        """A snapshot as big as the guest's root disk (1 MiB per GiB)."""
        uuid = _instance_uuid(instance)
        with self._driver_call('snapshot'):
            with self.host_file.change() as state:
                taken = state['snapshots'].get(snapshot_id)
                if taken is None:
                    guest = self._guest_or_raise(state, uuid)
                    taken = {'instance_uuid': uuid,
                             'base_image_id': guest.get('image_id'),
                             'size': max(1, int(guest.get('root_gb') or 1))
                             * 1024 * 1024,
                             'uploaded': None}
                    state['snapshots'][snapshot_id] = taken
            return {'size': taken['size']}

    def upload_snapshot(self, instance, snapshot_id, progress_cb):
        """Upload in ``[fake_driver] image_fetch_steps`` steps, spreading
        the method's delay over them."""
        _instance_uuid(instance)
        with self._driver_call('upload_snapshot', sleep_delay=False) as plan:
            taken = self.host_file.read()['snapshots'].get(snapshot_id)
            if taken is None:
                raise exception.Invalid(reason='no snapshot %s on host %s'
                                               % (snapshot_id, self.host))
            if taken['uploaded'] is not None:
                progress_cb(100)
                return taken['uploaded']
            steps = self.conf.fake_driver.image_fetch_steps
            for step in range(1, steps + 1):
                if plan.delay_s:
                    self.faults.wait('upload_snapshot', plan.delay_s / steps)
                progress_cb(step * 100 // steps)
            uploaded = {
                'size': taken['size'],
                'checksum': hashlib.md5(
                    snapshot_id.encode('utf-8'),
                    usedforsecurity=False).hexdigest(),
                'location': 'fake://%s/snapshots/%s' % (self.host,
                                                        snapshot_id)}
            with self.host_file.change() as state:
                if snapshot_id in state['snapshots']:
                    state['snapshots'][snapshot_id]['uploaded'] = uploaded
            return uploaded

    def delete_snapshot(self, snapshot_id):
        with self._driver_call('delete_snapshot'):
            with self.host_file.change() as state:
                state['snapshots'].pop(snapshot_id, None)

    # -- guest agent and diagnostics ----------------------------------------
    def _running_guest(self, state, uuid, power_states):
        """The guest, if its power state is one of ``power_states``;
        GuestNotFound, GuestNotRunning otherwise."""
        guest = self._guest_or_raise(state, uuid)
        if guest['power_state'] not in power_states:
            raise exception.GuestNotRunning(
                instance_uuid=uuid, power_state=states.POWER_STATE_NAMES.get(
                    guest['power_state']))
        return guest

    def set_admin_password(self, instance, admin_password):
        """Only a hash of the password is kept
        (``guest['admin_password_sha256']``), with the number of changes
        (``guest['password_changes']``, a re-run of the same password
        counts nothing)."""
        uuid = _instance_uuid(instance)
        digest = hashlib.sha256(
            (admin_password or '').encode('utf-8')).hexdigest()
        with self._driver_call('set_admin_password'):
            with self.host_file.change() as state:
                guest = self._running_guest(state, uuid, (states.RUNNING,))
                if guest.get('admin_password_sha256') != digest:
                    guest['admin_password_sha256'] = digest
                    guest['password_changes'] = (
                        guest.get('password_changes', 0) + 1)
                return guest['power_state']

    def trigger_crash_dump(self, instance):
        """Counts the NMI in ``guest['crash_dumps']``, marks the task
        that asked (``guest['last_crash_dump']``: a re-run for it injects
        nothing) and writes the kernel's answer on its console."""
        uuid = _instance_uuid(instance)
        task_id = instance.get('task_id')
        with self._driver_call('trigger_crash_dump'):
            with self.host_file.change() as state:
                guest = self._running_guest(
                    state, uuid, (states.RUNNING, states.POWER_PAUSED))
                if task_id and guest.get('last_crash_dump') == task_id:
                    return guest['power_state']
                guest['crash_dumps'] = guest.get('crash_dumps', 0) + 1
                guest['last_crash_dump'] = task_id
                fake_console.write(
                    guest, 'Uhhuh. NMI received for unknown reason on '
                    'CPU 0.', 'Kernel panic - not syncing: NMI: Not '
                    'continuing', 'Starting crashdump kernel...')
                return guest['power_state']

    # -- live migration -------------------------------------------------------
    # A guest being live-migrated is on both hosts: on the source it carries
    # {'live_migration': {'uuid', 'role': 'source', 'peer', 'copied',
    # 'power_state_before'}} and runs until its memory is copied (then it is
    # paused); on the destination it is an incoming guest, paused, with
    # {'live_migration': {'uuid', 'role': 'destination', 'peer',
    # 'incoming': True}} until it takes over. Aborts asked for a running
    # copy are kept in the host file's 'aborted_migrations'.
    def check_can_live_migrate_destination(self, instance, migration_uuid,
                                           source_host, block_migration):
        """Refuses to be the source, or to take a guest it already has
        (other than this migration's incoming one)."""
        uuid = _instance_uuid(instance)
        with self._driver_call('check_can_live_migrate_destination'):
            if source_host == self.host:
                raise exception.MigrationPreCheckError(
                    reason='%s is the source host of %s' % (self.host, uuid))
            guest = self.host_file.read()['guests'].get(uuid)
            if guest is not None and _live_migration_mark(
                    guest, migration_uuid, 'destination') is None:
                raise exception.MigrationPreCheckError(
                    reason='host %s already has a guest of instance %s'
                           % (self.host, uuid))
            return {'dest_host': self.host,
                    'block_migration': block_migration}

    def check_can_live_migrate_source(self, instance, migration_uuid,
                                      dest_check):
        """The guest must run or be paused (or be this migration's)."""
        uuid = _instance_uuid(instance)
        with self._driver_call('check_can_live_migrate_source'):
            guest = self._guest_or_raise(self.host_file.read(), uuid)
            live = (states.RUNNING, states.POWER_PAUSED)
            if guest['power_state'] not in live and _live_migration_mark(
                    guest, migration_uuid, 'source') is None:
                raise exception.MigrationPreCheckError(
                    reason='the guest of %s on %s is %s, neither running '
                           'nor paused' % (uuid, self.host,
                                           states.POWER_STATE_NAMES.get(
                                               guest['power_state'])))
            return dict(dest_check, source_host=self.host,
                        memory_total=_memory_bytes(instance))

    def pre_live_migration(self, instance, migration_uuid, source_host,
                           migrate_data):
        """Ports, disks and the incoming (paused) guest, in one write."""
        uuid = _instance_uuid(instance)
        with self._driver_call('pre_live_migration'):
            with self.host_file.change() as state:
                guest = state['guests'].get(uuid)
                if guest is not None and _live_migration_mark(
                        guest, migration_uuid, 'destination') is None:
                    raise exception.MigrationPreCheckError(
                        reason='host %s already has a guest of instance %s'
                               % (self.host, uuid))
                info = self._plug_networks(state, instance)
                mapping = _create_disks(state, instance)
                if guest is None:
                    guest = _guest_record(instance, instance.get('image_ref'),
                                          state, states.POWER_PAUSED)
                    guest['live_migration'] = {
                        'uuid': migration_uuid, 'role': 'destination',
                        'peer': source_host, 'incoming': True}
                    state['guests'][uuid] = guest
                    cached = state['image_cache'].get(instance.get(
                        'image_ref'))
                    if cached and uuid not in cached['users']:
                        cached['users'].append(uuid)
            return {'network_info': info, 'block_device_mapping': mapping}

    def live_migration(self, instance, migration_uuid, dest_host,
                       progress_cb):
        """Copy the memory in ``[fake_driver] live_migration_steps`` steps
        (the method's delay spread over them), looking for an abort before
        each step and before the guest stops."""
        uuid = _instance_uuid(instance)
        total = _memory_bytes(instance)
        done = {'memory_total': total, 'memory_processed': total,
                'memory_remaining': 0}
        with self._driver_call('live_migration', sleep_delay=False) as plan:
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                mark = _live_migration_mark(guest, migration_uuid, 'source')
                if mark is None:
                    if guest.get('live_migration'):
                        raise exception.Invalid(
                            reason='the guest of %s on %s is in another '
                                   'live migration' % (uuid, self.host))
                    mark = {'uuid': migration_uuid, 'role': 'source',
                            'peer': dest_host, 'copied': False,
                            'power_state_before': guest['power_state']}
                    guest['live_migration'] = mark
            if mark['copied']:
                progress_cb(total, total, 0)
                return done
            steps = self.conf.fake_driver.live_migration_steps
            for step in range(1, steps + 1):
                self._raise_if_aborted(migration_uuid, uuid)
                if plan.delay_s:
                    self.faults.wait('live_migration', plan.delay_s / steps)
                processed = total * step // steps
                progress_cb(total, processed, total - processed)
            with self.host_file.change() as state:
                if migration_uuid in state['aborted_migrations']:
                    raise exception.MigrationAborted(
                        migration_uuid=migration_uuid, instance_uuid=uuid)
                guest = self._guest_or_raise(state, uuid)
                mark = _live_migration_mark(guest, migration_uuid, 'source')
                if mark is None:
                    raise exception.Invalid(
                        reason='live migration %s of %s was rolled back '
                               'during the copy' % (migration_uuid, uuid))
                mark['copied'] = True
                guest['power_state'] = states.POWER_PAUSED
            return done

    def _raise_if_aborted(self, migration_uuid, instance_uuid):
        if migration_uuid in self.host_file.read()['aborted_migrations']:
            raise exception.MigrationAborted(migration_uuid=migration_uuid,
                                             instance_uuid=instance_uuid)

    def live_migration_abort(self, instance, migration_uuid):
        """Recorded only while this migration's copy is unfinished here."""
        uuid = _instance_uuid(instance)
        with self._driver_call('live_migration_abort'):
            with self.host_file.change() as state:
                mark = _live_migration_mark(state['guests'].get(uuid),
                                            migration_uuid, 'source')
                if mark is None or mark['copied']:
                    return False
                state['aborted_migrations'][migration_uuid] = _now()
                return True

    def rollback_live_migration(self, instance, migration_uuid):
        """The guest gets its power state from before the copy back."""
        uuid = _instance_uuid(instance)
        with self._driver_call('rollback_live_migration'):
            with self.host_file.change() as state:
                state['aborted_migrations'].pop(migration_uuid, None)
                guest = state['guests'].get(uuid)
                if guest is None:
                    return None
                mark = _live_migration_mark(guest, migration_uuid, 'source')
                if mark is not None:
                    guest['power_state'] = mark['power_state_before']
                    del guest['live_migration']
                return guest['power_state']

    def rollback_live_migration_at_destination(self, instance,
                                               migration_uuid):
        """Removes the incoming guest and what was made for it."""
        uuid = _instance_uuid(instance)
        with self._driver_call('rollback_live_migration_at_destination'):
            with self.host_file.change() as state:
                mark = _live_migration_mark(state['guests'].get(uuid),
                                            migration_uuid, 'destination')
                if mark is None or not mark.get('incoming'):
                    return False
                return _remove_guest_and_leftovers(state, uuid)

    def post_live_migration_at_destination(self, instance, migration_uuid,
                                           power_state):
        """The incoming guest loses its mark and is in ``power_state``."""
        uuid = _instance_uuid(instance)
        if power_state not in (states.RUNNING, states.POWER_PAUSED):
            raise exception.Invalid(reason='a live-migrated guest runs or '
                                           'is paused, not %r'
                                           % (power_state,))
        with self._driver_call('post_live_migration_at_destination'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                if _live_migration_mark(guest, migration_uuid,
                                        'destination') is not None:
                    del guest['live_migration']
                    guest['power_state'] = power_state
                    guest['network_info'] = state['networks'].get(uuid)
                return guest['power_state']

    def post_live_migration(self, instance, migration_uuid):
        """Removes the copied guest; refuses any other guest."""
        uuid = _instance_uuid(instance)
        with self._driver_call('post_live_migration'):
            with self.host_file.change() as state:
                state['aborted_migrations'].pop(migration_uuid, None)
                guest = state['guests'].get(uuid)
                if guest is not None:
                    mark = _live_migration_mark(guest, migration_uuid,
                                                'source')
                    if mark is None or not mark['copied']:
                        raise exception.Invalid(
                            reason='the guest of %s on %s is not the one '
                                   'live migration %s copied'
                                   % (uuid, self.host, migration_uuid))
                return _remove_guest_and_leftovers(state, uuid)

    # -- resize and cold migration ------------------------------------------
    def migrate_disk_and_power_off(self, instance, migration_uuid,
                                   dest_host):
        """The guest is off and marked as sent to ``dest_host``."""
        uuid = _instance_uuid(instance)
        with self._driver_call('migrate_disk_and_power_off'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                guest['power_state'] = states.SHUTDOWN
                guest['migration'] = {'uuid': migration_uuid,
                                      'role': 'source', 'peer': dest_host}
            return states.SHUTDOWN

    def finish_migration(self, instance, migration_uuid, image, power_on):
        """A guest with the instance's (new) flavor, running if asked. On
        the same host (a resize to the same host) the guest sent is the
        guest received: it takes the new flavor in place."""
        uuid = _instance_uuid(instance)
        image_id = _image_id(image)
        with self._driver_call('finish_migration'):
            with self.host_file.change() as state:
                guest = state['guests'].get(uuid)
                sent_here = guest is not None and guest.get(
                    'migration', {}).get('uuid') == migration_uuid and \
                    guest['migration']['role'] == 'source'
                if sent_here:
                    _set_flavor(guest, instance)
                    guest['migration'] = {'uuid': migration_uuid,
                                          'role': 'same-host'}
                    guest['power_state'] = (states.RUNNING if power_on
                                            else states.SHUTDOWN)
                elif guest is None:
                    guest = _guest_record(
                        instance, image_id, state,
                        states.RUNNING if power_on else states.SHUTDOWN)
                    guest['migration'] = {'uuid': migration_uuid,
                                          'role': 'destination'}
                    if power_on:
                        fake_console.boot(guest, instance,
                                          'Booting after migration %s'
                                          % migration_uuid)
                    state['guests'][uuid] = guest
                    cached = state['image_cache'].get(image_id)
                    if cached and uuid not in cached['users']:
                        cached['users'].append(uuid)
            return guest['power_state']

    def finish_revert_migration(self, instance, migration_uuid, power_on):
        """The kept guest loses its migration mark and has the flavor in
        ``instance`` (the old one) again; started if asked."""
        uuid = _instance_uuid(instance)
        with self._driver_call('finish_revert_migration'):
            with self.host_file.change() as state:
                guest = self._guest_or_raise(state, uuid)
                guest.pop('migration', None)
                _set_flavor(guest, instance)
                if power_on:
                    guest['power_state'] = states.RUNNING
            return guest['power_state']
