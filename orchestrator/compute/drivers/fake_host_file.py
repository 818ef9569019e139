"""The fake driver's memory of one host: a JSON file, changed atomically.

The file ``<state_dir>/<host>.json`` is the only copy of the host's state:
nothing is cached in memory, so every driver object (in this process or
another one) that opens the same file sees the same guests, and a host
restarted after ``kill -9`` finds exactly what was last written.

The host's files and their directory are its owner's only (0600, 0700).

Each change reads the file, applies the change and writes it back
(temporary file, then ``os.replace``) under an exclusive ``flock`` on
``<host>.lock``. A process killed at any instant (what the crash tests
and the soak do) leaves the old file or the new one: what a process
wrote is in the kernel's page cache and survives the process. The
writes are not fsynced: surviving the loss of the machine is not the
fake hypervisor's job, and two fsyncs per driver call made it slower
than the control plane it stands beside (it is measured beside it in
``benchmarks/``). ``flock`` locks belong to an open
file, so they exclude both other threads (each change opens the lock file
anew) and other processes. Readers need no lock: ``os.replace`` makes them
see either the old or the new file, never half of one.

Format (``format_version`` 1)::

    {"format_version": 1, "host": "h1",
     "calls": {"spawn": 3, ...},             # invocations per method
     "next_address_index": 2,                # fake IPv4 allocator
     "guests": {uuid: {"power_state": 1, "image_id": ..., "vcpus": ...,
                       "memory_mb": ..., "root_gb": ..., "ephemeral_gb": ...,
                       "display_name": ..., "network_info": {...} | null,
                       "created_at": "2026-01-01T00:00:00+00:00"}},
     "networks": {uuid: {"network_name": "private", "ip_address": ...,
                         "ip_version": 4, "mac_address": ...}},
     "block_devices": {uuid: {"/dev/vda": {"kind": "root",
                                           "size_gb": 1}}},
     "image_cache": {image_id: {"image_id": ..., "name": ..., "size": ...,
                                "location": ..., "users": [uuid, ...]}},
     "snapshots": {image_id: {"instance_uuid": ..., "base_image_id": ...,
                              "size": ..., "uploaded": {"size": ...,
                              "checksum": ..., "location": ...} | null}},
     "aborted_migrations": {migration_uuid: "<when the abort came>"}}

A guest in a live migration also has a ``live_migration`` mark (see the
live migration methods of :mod:`.fake`).

Keys added later to format 1 (``snapshots``, ``aborted_migrations``) are
filled in with their empty value when an older file is read.
"""

import contextlib
import copy
import fcntl
import json
import os

from orchestrator import file_modes

FORMAT_VERSION = 1


def host_file_path(state_dir, host):
    """Where the state of ``host`` lives."""
    return os.path.join(state_dir, '%s.json' % host)


def empty_host_state(host):
    """The state of a host that has never done anything."""
    return {
        'format_version': FORMAT_VERSION,
        'host': host,
        'calls': {},
        'next_address_index': 0,
        'guests': {},
        'networks': {},
        'block_devices': {},
        'image_cache': {},
        'snapshots': {},
        'aborted_migrations': {},
    }


def write_json_atomically(path, data):
    """Replace ``path`` with ``data`` as JSON; readers never see half.

    Writes a temporary file next to it and renames it over ``path``: a
    process killed at any instant leaves the old file or the new one (not
    fsynced: see the module doc). The file is its owner's only (0600).
    """
    tmp_path = '%s.tmp.%d' % (path, os.getpid())
    with file_modes.open_private(tmp_path) as tmp:
        json.dump(data, tmp, indent=1, sort_keys=True)
    os.replace(tmp_path, path)


class HostFile:
    """Read and change the state file of one fake host."""

    def __init__(self, state_dir, host):
        self.host = host
        self.state_dir = state_dir
        self.path = host_file_path(state_dir, host)
        self.lock_path = os.path.join(state_dir, '%s.lock' % host)

    def read(self):
        """The current state (a fresh dict), empty if never written.

        :raises ValueError: the file exists but is not a host state.
        """
        try:
            with open(self.path, encoding='utf-8') as f:
                state = json.load(f)
        except FileNotFoundError:
            return empty_host_state(self.host)
        except json.JSONDecodeError as e:
            raise ValueError('fake host file %s is not valid JSON: %s'
                             % (self.path, e)) from e
        if state.get('format_version') != FORMAT_VERSION:
            raise ValueError('fake host file %s has format_version %r, '
                             'expected %d' % (self.path,
                                              state.get('format_version'),
                                              FORMAT_VERSION))
        for key, empty in empty_host_state(self.host).items():
            state.setdefault(key, empty)
        return state

    @contextlib.contextmanager
    def change(self):
        """Lock, yield the state to change in place, then write it.

        Nothing is written when the block raises, or when it changed
        nothing.
        """
        file_modes.make_dirs(self.state_dir)
        with file_modes.open_private(self.lock_path, 'a') as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                state = self.read()
                before = copy.deepcopy(state)
                yield state
                if state != before or not os.path.exists(self.path):
                    write_json_atomically(self.path, state)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
