"""The state constants: persisted values are pinned, groups are consistent.

Values in orchestrator.states are written to the database, to logbooks and
shown to clients: renaming one orphans rows and breaks clients. The pinned
lists below change only together with a data migration.
"""

from orchestrator import states as s

PINNED_VM_STATES = {
    'active', 'building', 'stopped', 'paused', 'suspended', 'rescued',
    'resized', 'soft-delete', 'deleted', 'error', 'shelved',
    'shelved_offloaded',
}

PINNED_TASK_STATES = {
    'scheduling', 'networking', 'block_device_mapping', 'spawning',
    'deleting', 'soft-deleting', 'restoring',
    'powering-off', 'powering-on',
    'rebooting', 'reboot_pending', 'reboot_started',
    'rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard',
    'pausing', 'unpausing', 'suspending', 'resuming', 'rescuing',
    'unrescuing',
    'rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning',
    'image_snapshot', 'image_snapshot_pending', 'image_pending_upload',
    'image_uploading', 'image_backup',
    'updating_password', 'triggering_crash_dump',
    'resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish',
    'resize_reverting', 'resize_confirming',
    'migrating',
    'shelving', 'shelving_image_pending_upload', 'shelving_image_uploading',
    'shelving_offloading', 'unshelving',
}

# Nova's integers (OS-EXT-STS:power_state); clients decode them.
PINNED_POWER_STATES = {0: 'nostate', 1: 'running', 3: 'paused',
                       4: 'shutdown', 6: 'crashed', 7: 'suspended'}

PINNED_STATUSES = {
    'ACTIVE', 'BUILD', 'SHUTOFF', 'REBOOT', 'HARD_REBOOT', 'RESIZE',
    'VERIFY_RESIZE', 'REVERT_RESIZE', 'MIGRATING', 'REBUILD', 'PAUSED',
    'SUSPENDED', 'RESCUE', 'SOFT_DELETED', 'DELETED', 'ERROR', 'PASSWORD',
    'UNKNOWN', 'SHELVED', 'SHELVED_OFFLOADED',
}


def test_vm_state_values_are_pinned():
    assert set(s.VM_STATES) == PINNED_VM_STATES


def test_task_state_values_are_pinned():
    assert set(s.TASK_STATES) == PINNED_TASK_STATES


def test_power_state_values_are_pinned():
    assert s.POWER_STATE_NAMES == PINNED_POWER_STATES
    assert s.POWER_STATES == frozenset(PINNED_POWER_STATES)


def test_statuses_are_pinned():
    assert set(s.STATUSES) == PINNED_STATUSES


def test_vm_and_task_states_do_not_share_a_value():
    # A value that is both would make "the instance is <x>" ambiguous in
    # logs, filters and the audit trail.
    assert not s.VM_STATES & s.TASK_STATES


def test_every_constant_of_a_kind_is_in_its_set():
    """A constant added without adding it to its set would be refused by
    every check that reads the set."""
    vm_names = ('ACTIVE', 'BUILDING', 'STOPPED', 'PAUSED', 'SUSPENDED',
                'RESCUED', 'RESIZED', 'SOFT_DELETED', 'DELETED', 'ERROR',
                'SHELVED', 'SHELVED_OFFLOADED')
    assert {getattr(s, n) for n in vm_names} == s.VM_STATES
    task_values = {v for n, v in vars(s).items()
                   if n.isupper() and isinstance(v, str)
                   and v in PINNED_TASK_STATES}
    assert task_values == s.TASK_STATES


def test_task_state_groups_are_task_states():
    groups = [s.BUILD_TASK_STATES, s.SOFT_REBOOT_TASK_STATES,
              s.HARD_REBOOT_TASK_STATES, s.REBUILD_TASK_STATES,
              s.SNAPSHOT_TASK_STATES, s.RESIZE_TASK_STATES,
              s.SHELVE_TASK_STATES]
    for group in groups:
        assert group, group
        assert group <= s.TASK_STATES, group - s.TASK_STATES
    # The groups name different activities: none overlaps another.
    for i, a in enumerate(groups):
        for b in groups[i + 1:]:
            assert not a & b, a & b


def test_gone_vm_states_are_vm_states():
    assert s.GONE_VM_STATES <= s.VM_STATES
    assert s.DELETED in s.GONE_VM_STATES


def test_persisted_values_are_lower_case_without_spaces():
    for value in s.VM_STATES | s.TASK_STATES:
        assert value == value.lower() and ' ' not in value, value


def test_statuses_are_upper_case():
    for value in s.STATUSES:
        assert value == value.upper(), value


def test_migration_final_statuses():
    statuses = {v for n, v in vars(s).items()
                if n.startswith('MIGRATION_') and isinstance(v, str)}
    assert s.MIGRATION_FINAL_STATUSES <= statuses
    # A migration still moving is never final.
    for moving in (s.MIGRATION_PRE_MIGRATING, s.MIGRATION_MIGRATING,
                   s.MIGRATION_POST_MIGRATING, s.MIGRATION_FINISHED):
        assert moving not in s.MIGRATION_FINAL_STATUSES
