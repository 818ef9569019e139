"""What each compute microversion defines a server response may carry:
the oracle of the old-client checks (tests/unit/api/test_old_clients.py).

tempest.lib's server schemas type ``status``, ``OS-EXT-STS:vm_state`` and
``OS-EXT-STS:task_state`` as plain strings (no enum), so their values come
from Nova's documentation and code, and the fields from tempest.lib:

* statuses: the API guide's "Server status" list
  (https://docs.openstack.org/api-guide/compute/server_concepts.html),
  the values of nova.api.openstack.common's state map; no microversion
  up to 2.47 added or removed one, so every one is known from 2.1;
* vm_states: nova/compute/vm_states.py;
* task_states: nova/compute/task_states.py (with the reboot sub-states
  Nova added in Kilo); they are not versioned either;
* the fields of a server body at a microversion: tempest.lib's
  ``get_server`` / ``list_servers_detail`` schema of the newest
  ``api_schema.response.compute.v2_N`` at or below it
  (additionalProperties false: a field it does not name fails).

A microversion that changes one of these lists gets its entry in the
``*_SINCE`` dict (the first microversion that defines the value).
"""

import importlib
import pkgutil

from tempest.lib.api_schema.response import compute as tempest_compute

_V2_1 = (2, 1)

#: Server status -> the first microversion whose clients know it.
STATUSES_SINCE = {status: _V2_1 for status in (
    'ACTIVE', 'BUILD', 'DELETED', 'ERROR', 'HARD_REBOOT', 'MIGRATING',
    'PASSWORD', 'PAUSED', 'REBOOT', 'REBUILD', 'RESCUE', 'RESIZE',
    'REVERT_RESIZE', 'SHELVED', 'SHELVED_OFFLOADED', 'SHUTOFF',
    'SOFT_DELETED', 'SUSPENDED', 'UNKNOWN', 'VERIFY_RESIZE')}

#: OS-EXT-STS:vm_state value -> the first microversion that defines it.
VM_STATES_SINCE = {vm_state: _V2_1 for vm_state in (
    'active', 'building', 'paused', 'suspended', 'stopped', 'rescued',
    'resized', 'soft-delete', 'deleted', 'error', 'shelved',
    'shelved_offloaded')}

#: OS-EXT-STS:task_state value -> the first microversion that defines it
#: (None: no task).
TASK_STATES_SINCE = {task_state: _V2_1 for task_state in (
    None, 'scheduling', 'block_device_mapping', 'networking', 'spawning',
    'image_snapshot', 'image_snapshot_pending', 'image_pending_upload',
    'image_uploading', 'image_backup', 'updating_password', 'resize_prep',
    'resize_migrating', 'resize_migrated', 'resize_finish',
    'resize_reverting', 'resize_confirming', 'rebooting', 'reboot_pending',
    'reboot_started', 'rebooting_hard', 'reboot_pending_hard',
    'reboot_started_hard', 'pausing', 'unpausing', 'suspending',
    'resuming', 'powering-off', 'powering-on', 'rescuing', 'unrescuing',
    'rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning',
    'migrating', 'deleting', 'soft-deleting', 'restoring', 'shelving',
    'shelving_image_pending_upload', 'shelving_image_uploading',
    'shelving_offloading', 'unshelving')}


def _known_at(since, version):
    return frozenset(value for value, first in since.items()
                     if first <= tuple(version))


def statuses_at(version):
    """The server statuses a client of ``version`` knows."""
    return _known_at(STATUSES_SINCE, version)


def vm_states_at(version):
    """The OS-EXT-STS:vm_state values a client of ``version`` knows."""
    return _known_at(VM_STATES_SINCE, version)


def task_states_at(version):
    """The OS-EXT-STS:task_state values (None included) a client of
    ``version`` knows."""
    return _known_at(TASK_STATES_SINCE, version)


def _server_schema_versions():
    """{(2, N): module name} of tempest.lib's compute schema packages
    that define ``get_server``."""
    out = {}
    for info in pkgutil.iter_modules(tempest_compute.__path__):
        if not info.name.startswith('v2_'):
            continue
        try:
            module = importlib.import_module(
                '%s.%s.servers' % (tempest_compute.__name__, info.name))
        except ImportError:
            continue
        if hasattr(module, 'get_server'):
            out[(2, int(info.name[3:]))] = info.name
    return out


_SCHEMA_VERSIONS = _server_schema_versions()


def server_schema_module(version):
    """The tempest.lib schema package (``'v2_N'``) describing a server
    body at ``version``: the newest at or below it."""
    return _SCHEMA_VERSIONS[max(v for v in _SCHEMA_VERSIONS
                                if v <= tuple(version))]
