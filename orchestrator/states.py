"""Every state an instance, a migration or a power report can be in.

The values are persisted in the database and in logbooks, and shown to
clients (``OS-EXT-STS:vm_state``, ``OS-EXT-STS:task_state``,
``OS-EXT-STS:power_state``): they are chosen once and never renamed. They
follow Nova's spelling so that clients written for Nova read them unchanged.

Nothing but constants and the sets that group them lives here; the rules
(which action is allowed where, which status a client sees) live in
:mod:`orchestrator.state_machine`.
"""

# -- vm_state: stable, an adjective; changes only when a task ends ----------
ACTIVE = 'active'
BUILDING = 'building'
STOPPED = 'stopped'
PAUSED = 'paused'
SUSPENDED = 'suspended'
RESCUED = 'rescued'
RESIZED = 'resized'
SOFT_DELETED = 'soft-delete'
DELETED = 'deleted'
ERROR = 'error'
#: Shelved: the guest powered off on its host, its disk kept as an image.
SHELVED = 'shelved'
#: Shelved and offloaded: no guest, no host, no capacity held; the server
#: lives on as its shelved image until an unshelve spawns it again.
SHELVED_OFFLOADED = 'shelved_offloaded'

VM_STATES = frozenset([ACTIVE, BUILDING, STOPPED, PAUSED, SUSPENDED, RESCUED,
                       RESIZED, SOFT_DELETED, DELETED, ERROR, SHELVED,
                       SHELVED_OFFLOADED])

#: vm_states from which no action but delete/restore leads anywhere.
GONE_VM_STATES = frozenset([DELETED])

# -- task_state: transient, a verb-ing; NULL (None) when no task runs -------
SCHEDULING = 'scheduling'
NETWORKING = 'networking'
BLOCK_DEVICE_MAPPING = 'block_device_mapping'
SPAWNING = 'spawning'

DELETING = 'deleting'
SOFT_DELETING = 'soft-deleting'
RESTORING = 'restoring'

POWERING_OFF = 'powering-off'
POWERING_ON = 'powering-on'
REBOOTING = 'rebooting'
REBOOT_PENDING = 'reboot_pending'
REBOOT_STARTED = 'reboot_started'
REBOOTING_HARD = 'rebooting_hard'
REBOOT_PENDING_HARD = 'reboot_pending_hard'
REBOOT_STARTED_HARD = 'reboot_started_hard'
PAUSING = 'pausing'
UNPAUSING = 'unpausing'
SUSPENDING = 'suspending'
RESUMING = 'resuming'
RESCUING = 'rescuing'
UNRESCUING = 'unrescuing'

REBUILDING = 'rebuilding'
REBUILD_BLOCK_DEVICE_MAPPING = 'rebuild_block_device_mapping'
REBUILD_SPAWNING = 'rebuild_spawning'

IMAGE_SNAPSHOT = 'image_snapshot'
IMAGE_SNAPSHOT_PENDING = 'image_snapshot_pending'
IMAGE_PENDING_UPLOAD = 'image_pending_upload'
IMAGE_UPLOADING = 'image_uploading'
IMAGE_BACKUP = 'image_backup'

UPDATING_PASSWORD = 'updating_password'
#: Not one of Nova's (Nova's crash dump runs without a task_state): our
#: claim needs one, and it shows the vm_state's status.
TRIGGERING_CRASH_DUMP = 'triggering_crash_dump'

RESIZE_PREP = 'resize_prep'
RESIZE_MIGRATING = 'resize_migrating'
RESIZE_MIGRATED = 'resize_migrated'
RESIZE_FINISH = 'resize_finish'
RESIZE_REVERTING = 'resize_reverting'
RESIZE_CONFIRMING = 'resize_confirming'

MIGRATING = 'migrating'

SHELVING = 'shelving'
SHELVING_IMAGE_PENDING_UPLOAD = 'shelving_image_pending_upload'
SHELVING_IMAGE_UPLOADING = 'shelving_image_uploading'
SHELVING_OFFLOADING = 'shelving_offloading'
UNSHELVING = 'unshelving'

TASK_STATES = frozenset([
    SCHEDULING, NETWORKING, BLOCK_DEVICE_MAPPING, SPAWNING,
    DELETING, SOFT_DELETING, RESTORING,
    POWERING_OFF, POWERING_ON,
    REBOOTING, REBOOT_PENDING, REBOOT_STARTED,
    REBOOTING_HARD, REBOOT_PENDING_HARD, REBOOT_STARTED_HARD,
    PAUSING, UNPAUSING, SUSPENDING, RESUMING, RESCUING, UNRESCUING,
    REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING,
    IMAGE_SNAPSHOT, IMAGE_SNAPSHOT_PENDING, IMAGE_PENDING_UPLOAD,
    IMAGE_UPLOADING, IMAGE_BACKUP,
    UPDATING_PASSWORD, TRIGGERING_CRASH_DUMP,
    RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH,
    RESIZE_REVERTING, RESIZE_CONFIRMING,
    MIGRATING,
    SHELVING, SHELVING_IMAGE_PENDING_UPLOAD, SHELVING_IMAGE_UPLOADING,
    SHELVING_OFFLOADING, UNSHELVING,
])

BUILD_TASK_STATES = frozenset([SCHEDULING, NETWORKING, BLOCK_DEVICE_MAPPING,
                               SPAWNING])
SOFT_REBOOT_TASK_STATES = frozenset([REBOOTING, REBOOT_PENDING,
                                     REBOOT_STARTED])
HARD_REBOOT_TASK_STATES = frozenset([REBOOTING_HARD, REBOOT_PENDING_HARD,
                                     REBOOT_STARTED_HARD])
REBUILD_TASK_STATES = frozenset([REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING,
                                 REBUILD_SPAWNING])
SNAPSHOT_TASK_STATES = frozenset([IMAGE_SNAPSHOT, IMAGE_SNAPSHOT_PENDING,
                                  IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING,
                                  IMAGE_BACKUP])
RESIZE_TASK_STATES = frozenset([RESIZE_PREP, RESIZE_MIGRATING,
                                RESIZE_MIGRATED, RESIZE_FINISH])
#: A shelve's task_states before the guest is shelved (snapshot, power off).
SHELVE_TASK_STATES = frozenset([SHELVING, SHELVING_IMAGE_PENDING_UPLOAD,
                                SHELVING_IMAGE_UPLOADING])

# -- power_state: what the hypervisor says, reported bottom-up --------------
# Integers, as Nova persists and shows them (OS-EXT-STS:power_state).
NOSTATE = 0
RUNNING = 1
POWER_PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
POWER_SUSPENDED = 7

POWER_STATE_NAMES = {
    NOSTATE: 'nostate',
    RUNNING: 'running',
    POWER_PAUSED: 'paused',
    SHUTDOWN: 'shutdown',
    CRASHED: 'crashed',
    POWER_SUSPENDED: 'suspended',
}
POWER_STATES = frozenset(POWER_STATE_NAMES)

# -- user-visible status (a function of vm_state and task_state) ------------
STATUS_ACTIVE = 'ACTIVE'
STATUS_BUILD = 'BUILD'
STATUS_SHUTOFF = 'SHUTOFF'
STATUS_REBOOT = 'REBOOT'
STATUS_HARD_REBOOT = 'HARD_REBOOT'
STATUS_RESIZE = 'RESIZE'
STATUS_VERIFY_RESIZE = 'VERIFY_RESIZE'
STATUS_REVERT_RESIZE = 'REVERT_RESIZE'
STATUS_MIGRATING = 'MIGRATING'
STATUS_REBUILD = 'REBUILD'
STATUS_PAUSED = 'PAUSED'
STATUS_SUSPENDED = 'SUSPENDED'
STATUS_RESCUE = 'RESCUE'
STATUS_SOFT_DELETED = 'SOFT_DELETED'
STATUS_DELETED = 'DELETED'
STATUS_ERROR = 'ERROR'
STATUS_PASSWORD = 'PASSWORD'
STATUS_SHELVED = 'SHELVED'
STATUS_SHELVED_OFFLOADED = 'SHELVED_OFFLOADED'
STATUS_UNKNOWN = 'UNKNOWN'

STATUSES = frozenset([
    STATUS_ACTIVE, STATUS_BUILD, STATUS_SHUTOFF, STATUS_REBOOT,
    STATUS_HARD_REBOOT, STATUS_RESIZE, STATUS_VERIFY_RESIZE,
    STATUS_REVERT_RESIZE, STATUS_MIGRATING, STATUS_REBUILD, STATUS_PAUSED,
    STATUS_SUSPENDED, STATUS_RESCUE, STATUS_SOFT_DELETED, STATUS_DELETED,
    STATUS_ERROR, STATUS_PASSWORD, STATUS_SHELVED, STATUS_SHELVED_OFFLOADED,
    STATUS_UNKNOWN,
])

# -- migrations -------------------------------------------------------------
MIGRATION_PRE_MIGRATING = 'pre-migrating'
MIGRATION_MIGRATING = 'migrating'
MIGRATION_POST_MIGRATING = 'post-migrating'
MIGRATION_FINISHED = 'finished'
MIGRATION_CONFIRMING = 'confirming'
MIGRATION_CONFIRMED = 'confirmed'
MIGRATION_REVERTING = 'reverting'
MIGRATION_REVERTED = 'reverted'
MIGRATION_DONE = 'done'
MIGRATION_COMPLETED = 'completed'
MIGRATION_ERROR = 'error'
MIGRATION_CANCELLED = 'cancelled'
# Live migration (Nova's values): queued -> preparing -> running ->
# completed, or failed / cancelled (abort).
MIGRATION_QUEUED = 'queued'
MIGRATION_PREPARING = 'preparing'
MIGRATION_RUNNING = 'running'
MIGRATION_FAILED = 'failed'
# Evacuation: accepted -> pre-migrating -> done (rebuilt elsewhere; the
# source host is down) -> completed (its leftover guest destroyed when it
# came back), or failed.
MIGRATION_ACCEPTED = 'accepted'

MIGRATION_FINAL_STATUSES = frozenset([
    MIGRATION_CONFIRMED, MIGRATION_REVERTED, MIGRATION_COMPLETED,
    MIGRATION_ERROR, MIGRATION_CANCELLED, MIGRATION_FAILED,
])
#: Statuses in which a migration legitimately waits for something outside
#: any flow: a resize waiting for confirm or revert (finished), an
#: evacuation waiting for its source host to come back (done).
MIGRATION_WAITING_STATUSES = frozenset([MIGRATION_FINISHED, MIGRATION_DONE])
#: Statuses of a live migration an abort may still stop: before its
#: point of no return (post-migrating, when the destination takes over).
MIGRATION_LIVE_ABORTABLE = frozenset([MIGRATION_QUEUED, MIGRATION_PREPARING,
                                      MIGRATION_RUNNING])

MIGRATION_TYPES = frozenset(['resize', 'migration', 'live-migration',
                             'evacuation'])

# -- instance action results (instance_actions / events) --------------------
RESULT_SUCCESS = 'Success'
RESULT_ERROR = 'Error'
