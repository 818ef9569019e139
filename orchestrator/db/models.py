"""SQLAlchemy 2 models of our tables (TaskFlow's logbook tables are its own).

The alembic revisions in :mod:`orchestrator.db.schema_versions` create exactly
these tables; a test compares the two on every database we support.
Rows are never handed outside :mod:`orchestrator.db.api`: it returns plain
dicts, so nothing persisted in a flow's store is an ORM object.
"""

import datetime

from oslo_serialization import jsonutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm
from sqlalchemy import types


def utcnow():
    """Naive UTC now (every DateTime column holds naive UTC)."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


#: A DateTime that keeps microseconds on MySQL/MariaDB too (their plain
#: DATETIME rounds to seconds, which would shorten leases by up to 1 s).
PreciseDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                             'mariadb')


class JsonEncoded(types.TypeDecorator):
    """A JSON document stored as text (portable across our databases)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else jsonutils.dumps(value)

    def process_result_value(self, value, dialect):
        return None if value is None else jsonutils.loads(value)


class Base(orm.DeclarativeBase):
    pass


def attribute_columns(model):
    """Every column of ``model`` labelled as its ORM attribute: a Core
    ``select(*attribute_columns(M))`` reads rows as ``dict(row._mapping)``
    equal to ``as_dict()`` without building ORM objects (for hot reads)."""
    return tuple(attr.columns[0].label(attr.key)
                 for attr in sa.inspect(model).column_attrs)


class TimestampMixin:
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=utcnow, nullable=False)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, onupdate=utcnow)

    def as_dict(self):
        return {c.key: getattr(self, c.key)
                for c in sa.inspect(self).mapper.column_attrs}


class Flavor(TimestampMixin, Base):
    __tablename__ = 'flavors'
    __table_args__ = (
        sa.UniqueConstraint('flavorid', name='uniq_flavors0flavorid'),
        sa.UniqueConstraint('name', name='uniq_flavors0name'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    flavorid = orm.mapped_column(sa.String(255), nullable=False)
    name = orm.mapped_column(sa.String(255), nullable=False)
    vcpus = orm.mapped_column(sa.Integer, nullable=False)
    memory_mb = orm.mapped_column(sa.Integer, nullable=False)
    root_gb = orm.mapped_column(sa.Integer, nullable=False)
    ephemeral_gb = orm.mapped_column(sa.Integer, nullable=False, default=0)
    swap = orm.mapped_column(sa.Integer, nullable=False, default=0)
    rxtx_factor = orm.mapped_column(sa.Float, nullable=False, default=1.0)
    is_public = orm.mapped_column(sa.Boolean, nullable=False, default=True)
    disabled = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    description = orm.mapped_column(sa.Text)
    extra_specs = orm.mapped_column(JsonEncoded)


class Image(TimestampMixin, Base):
    """An image record shaped like Glance v2's."""

    __tablename__ = 'images'
    __table_args__ = (sa.Index('images_name_idx', 'name'),)
    id = orm.mapped_column(sa.String(36), primary_key=True)
    name = orm.mapped_column(sa.String(255))
    status = orm.mapped_column(sa.String(30), nullable=False)
    visibility = orm.mapped_column(sa.String(20), nullable=False,
                                   default='public')
    owner = orm.mapped_column(sa.String(255))
    disk_format = orm.mapped_column(sa.String(20))
    container_format = orm.mapped_column(sa.String(20))
    size = orm.mapped_column(sa.BigInteger)
    min_disk = orm.mapped_column(sa.Integer, nullable=False, default=0)
    min_ram = orm.mapped_column(sa.Integer, nullable=False, default=0)
    checksum = orm.mapped_column(sa.String(32))
    protected = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    properties = orm.mapped_column(JsonEncoded)
    deleted = orm.mapped_column(sa.Boolean, nullable=False, default=False)


class Instance(TimestampMixin, Base):
    __tablename__ = 'instances'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_instances0uuid'),
        sa.Index('instances_project_id_deleted_idx', 'project_id',
                 'deleted'),
        sa.Index('instances_host_deleted_idx', 'host', 'deleted'),
        sa.Index('instances_reservation_id_idx', 'reservation_id'),
        sa.Index('instances_task_state_updated_at_idx', 'task_state',
                 'updated_at'),
        # The deadline watchdog's rows (live, in a task): few among many
        # finished ones (a plain index on MySQL, which has no partial
        # indexes).
        sa.Index('instances_in_task_idx', 'task_deadline_at',
                 sqlite_where=sa.text(
                     'deleted = 0 AND task_state IS NOT NULL'),
                 postgresql_where=sa.text(
                     'deleted = 0 AND task_state IS NOT NULL')),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    display_name = orm.mapped_column(sa.String(255))
    description = orm.mapped_column(sa.Text)
    project_id = orm.mapped_column(sa.String(255), nullable=False)
    user_id = orm.mapped_column(sa.String(255), nullable=False)
    # The flavor as it was at boot (the flavor row may change or go).
    flavor_id = orm.mapped_column(sa.String(255), nullable=False)
    flavor = orm.mapped_column(JsonEncoded, nullable=False)
    vcpus = orm.mapped_column(sa.Integer, nullable=False)
    memory_mb = orm.mapped_column(sa.Integer, nullable=False)
    root_gb = orm.mapped_column(sa.Integer, nullable=False)
    ephemeral_gb = orm.mapped_column(sa.Integer, nullable=False, default=0)
    image_ref = orm.mapped_column(sa.String(255))
    vm_state = orm.mapped_column(sa.String(255), nullable=False)
    task_state = orm.mapped_column(sa.String(255))
    power_state = orm.mapped_column(sa.Integer, nullable=False, default=0)
    # A fresh id per claim: every state write a flow makes is a CAS on it.
    task_id = orm.mapped_column(sa.String(36))
    task_deadline_at = orm.mapped_column(sa.DateTime)
    progress = orm.mapped_column(sa.Integer, nullable=False, default=0)
    host = orm.mapped_column(sa.String(255))
    node = orm.mapped_column(sa.String(255))
    availability_zone = orm.mapped_column(sa.String(255))
    key_name = orm.mapped_column(sa.String(255))
    user_data = orm.mapped_column(sa.Text)
    metadata_ = orm.mapped_column('metadata', JsonEncoded)
    # What the system keeps about the instance, never shown to users
    # (Nova's system_metadata): a shelved server's image and when it was
    # shelved (shelved_image_id, shelved_at, shelved_host).
    system_metadata = orm.mapped_column(JsonEncoded)
    networks = orm.mapped_column(JsonEncoded)
    access_ip_v4 = orm.mapped_column(sa.String(39))
    access_ip_v6 = orm.mapped_column(sa.String(39))
    config_drive = orm.mapped_column(sa.String(255))
    locked = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    locked_reason = orm.mapped_column(sa.String(255))
    reservation_id = orm.mapped_column(sa.String(255))
    launch_index = orm.mapped_column(sa.Integer, nullable=False, default=0)
    hostname = orm.mapped_column(sa.String(255))
    launched_at = orm.mapped_column(sa.DateTime)
    terminated_at = orm.mapped_column(sa.DateTime)
    deleted_at = orm.mapped_column(sa.DateTime)
    # 0 while the instance exists; its id once deleted (Nova's convention).
    deleted = orm.mapped_column(sa.Integer, nullable=False, default=0)


class InstanceAction(TimestampMixin, Base):
    """One per request on an instance (and per automatic correction)."""

    __tablename__ = 'instance_actions'
    __table_args__ = (
        sa.Index('instance_actions_instance_uuid_idx', 'instance_uuid'),
        sa.Index('instance_actions_task_id_idx', 'task_id'),
        # The accepted-requests check reads open actions and recorded
        # requests: few among all the finished ones.
        sa.Index('instance_actions_open_idx', 'start_time',
                 sqlite_where=sa.text('finish_time IS NULL'),
                 postgresql_where=sa.text('finish_time IS NULL')),
        sa.Index('instance_actions_pending_idx', 'start_time',
                 sqlite_where=sa.text('pending_request IS NOT NULL'),
                 postgresql_where=sa.text('pending_request IS NOT NULL')),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    instance_uuid = orm.mapped_column(sa.String(36), nullable=False)
    action = orm.mapped_column(sa.String(255), nullable=False)
    request_id = orm.mapped_column(sa.String(255), nullable=False)
    task_id = orm.mapped_column(sa.String(36))
    user_id = orm.mapped_column(sa.String(255))
    project_id = orm.mapped_column(sa.String(255))
    start_time = orm.mapped_column(sa.DateTime, nullable=False)
    finish_time = orm.mapped_column(sa.DateTime)
    message = orm.mapped_column(sa.String(255))
    result = orm.mapped_column(sa.String(255))
    # The request handed to a conductor, until its flow's job is posted
    # (orchestrator.conductor.accepted); NULL otherwise.
    pending_request = orm.mapped_column(JsonEncoded)


class InstanceActionEvent(TimestampMixin, Base):
    """One per flow step of an action, written by the audit listener."""

    __tablename__ = 'instance_actions_events'
    __table_args__ = (
        sa.UniqueConstraint('action_id', 'event',
                            name='uniq_instance_actions_events0action_event'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    action_id = orm.mapped_column(
        sa.Integer, sa.ForeignKey('instance_actions.id', ondelete='CASCADE'),
        nullable=False)
    event = orm.mapped_column(sa.String(255), nullable=False)
    start_time = orm.mapped_column(sa.DateTime)
    finish_time = orm.mapped_column(sa.DateTime)
    result = orm.mapped_column(sa.String(255))
    traceback = orm.mapped_column(sa.Text)
    host = orm.mapped_column(sa.String(255))
    details = orm.mapped_column(sa.Text)


class InstanceFault(TimestampMixin, Base):
    __tablename__ = 'instance_faults'
    __table_args__ = (
        sa.Index('instance_faults_instance_uuid_idx', 'instance_uuid'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    instance_uuid = orm.mapped_column(sa.String(36), nullable=False)
    code = orm.mapped_column(sa.Integer, nullable=False)
    message = orm.mapped_column(sa.String(255))
    details = orm.mapped_column(sa.Text)
    host = orm.mapped_column(sa.String(255))


class Service(TimestampMixin, Base):
    """A running daemon (conductor or compute), kept alive by heartbeats."""

    __tablename__ = 'services'
    __table_args__ = (
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    host = orm.mapped_column(sa.String(255), nullable=False)
    binary = orm.mapped_column(sa.String(255), nullable=False)
    topic = orm.mapped_column(sa.String(255))
    zone = orm.mapped_column(sa.String(255), nullable=False,
                             default='nova')
    #: The zone the service reports with its heartbeats; ``zone`` is the
    #: one of its host's aggregates when one has an availability zone,
    #: else this (see :mod:`orchestrator.db.aggregates`).
    reported_zone = orm.mapped_column(sa.String(255))
    disabled = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    disabled_reason = orm.mapped_column(sa.String(255))
    forced_down = orm.mapped_column(sa.Boolean, nullable=False,
                                    default=False)
    last_seen_at = orm.mapped_column(sa.DateTime)
    report_count = orm.mapped_column(sa.Integer, nullable=False, default=0)


class ComputeNode(TimestampMixin, Base):
    """A host's capacity; ``generation`` serialises claims against it."""

    __tablename__ = 'compute_nodes'
    __table_args__ = (
        sa.UniqueConstraint('host', name='uniq_compute_nodes0host'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    host = orm.mapped_column(sa.String(255), nullable=False)
    hypervisor_hostname = orm.mapped_column(sa.String(255), nullable=False)
    hypervisor_type = orm.mapped_column(sa.String(255), nullable=False)
    vcpus = orm.mapped_column(sa.Integer, nullable=False)
    memory_mb = orm.mapped_column(sa.Integer, nullable=False)
    local_gb = orm.mapped_column(sa.Integer, nullable=False)
    generation = orm.mapped_column(sa.Integer, nullable=False, default=0)


class Allocation(TimestampMixin, Base):
    """Resources one consumer (an instance, or a migration) holds on a host.

    Usage of a host is the sum of its allocations: there is no counter to
    drift, and releasing an allocation twice is a no-op.
    """

    __tablename__ = 'allocations'
    __table_args__ = (
        sa.UniqueConstraint('consumer_uuid', 'host',
                            name='uniq_allocations0consumer0host'),
        sa.Index('allocations_host_idx', 'host'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    consumer_uuid = orm.mapped_column(sa.String(36), nullable=False)
    instance_uuid = orm.mapped_column(sa.String(36), nullable=False)
    host = orm.mapped_column(sa.String(255), nullable=False)
    vcpus = orm.mapped_column(sa.Integer, nullable=False)
    memory_mb = orm.mapped_column(sa.Integer, nullable=False)
    disk_gb = orm.mapped_column(sa.Integer, nullable=False)


class Migration(TimestampMixin, Base):
    __tablename__ = 'migrations'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_migrations0uuid'),
        sa.Index('migrations_instance_uuid_idx', 'instance_uuid'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    instance_uuid = orm.mapped_column(sa.String(36), nullable=False)
    migration_type = orm.mapped_column(sa.String(32), nullable=False)
    status = orm.mapped_column(sa.String(255), nullable=False)
    source_compute = orm.mapped_column(sa.String(255))
    dest_compute = orm.mapped_column(sa.String(255))
    source_node = orm.mapped_column(sa.String(255))
    dest_node = orm.mapped_column(sa.String(255))
    old_flavor = orm.mapped_column(JsonEncoded)
    new_flavor = orm.mapped_column(JsonEncoded)
    memory_total = orm.mapped_column(sa.BigInteger)
    memory_processed = orm.mapped_column(sa.BigInteger)
    memory_remaining = orm.mapped_column(sa.BigInteger)
    project_id = orm.mapped_column(sa.String(255))
    user_id = orm.mapped_column(sa.String(255))


class ProjectQuota(TimestampMixin, Base):
    """A project's quota overrides, and the row its quota-checked claims
    lock (see :mod:`orchestrator.db.quotas`).

    One row per project that has overrides or has made a quota-checked
    claim; a NULL column means the configured default (``[quota]``).
    """

    __tablename__ = 'project_quotas'
    __table_args__ = (
        sa.UniqueConstraint('project_id',
                            name='uniq_project_quotas0project_id'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    project_id = orm.mapped_column(sa.String(255), nullable=False)
    instances = orm.mapped_column(sa.Integer)
    cores = orm.mapped_column(sa.Integer)
    ram = orm.mapped_column(sa.Integer)
    metadata_items = orm.mapped_column(sa.Integer)
    injected_files = orm.mapped_column(sa.Integer)
    injected_file_content_bytes = orm.mapped_column(sa.Integer)
    injected_file_path_bytes = orm.mapped_column(sa.Integer)
    key_pairs = orm.mapped_column(sa.Integer)
    server_groups = orm.mapped_column(sa.Integer)
    server_group_members = orm.mapped_column(sa.Integer)
    # Nova-network's quotas, shown and stored below microversion 2.36.
    fixed_ips = orm.mapped_column(sa.Integer)
    floating_ips = orm.mapped_column(sa.Integer)
    security_groups = orm.mapped_column(sa.Integer)
    security_group_rules = orm.mapped_column(sa.Integer)


class KeyPair(TimestampMixin, Base):
    """A user's keypair (``os-keypairs``): names are per user."""

    __tablename__ = 'key_pairs'
    __table_args__ = (
        sa.UniqueConstraint('user_id', 'name',
                            name='uniq_key_pairs0user_id0name'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    name = orm.mapped_column(sa.String(255), nullable=False)
    user_id = orm.mapped_column(sa.String(255), nullable=False)
    fingerprint = orm.mapped_column(sa.String(255), nullable=False)
    public_key = orm.mapped_column(sa.Text, nullable=False)
    type = orm.mapped_column(sa.String(10), nullable=False, default='ssh')


class FlavorProject(TimestampMixin, Base):
    """A project a non-public flavor is shared with (``os-flavor-access``);
    ``flavor_id`` is the API's id (``flavors.flavorid``)."""

    __tablename__ = 'flavor_projects'
    __table_args__ = (
        sa.UniqueConstraint('flavor_id', 'project_id',
                            name='uniq_flavor_projects0flavor_id0project_id'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    flavor_id = orm.mapped_column(sa.String(255), nullable=False)
    project_id = orm.mapped_column(sa.String(255), nullable=False)


class Tag(Base):
    """A server's tag (``/servers/{id}/tags``): one row per (instance
    uuid, tag), as Nova's table."""

    __tablename__ = 'tags'
    __table_args__ = (sa.Index('tags_tag_idx', 'tag'),)
    resource_id = orm.mapped_column(sa.String(36), primary_key=True)
    tag = orm.mapped_column(sa.String(80), primary_key=True)


class ServerGroup(TimestampMixin, Base):
    """A server group (``os-server-groups``): a placement policy over its
    members; the scheduler locks the row while it places one."""

    __tablename__ = 'server_groups'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_server_groups0uuid'),
        sa.Index('server_groups_project_id_idx', 'project_id'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    name = orm.mapped_column(sa.String(255), nullable=False)
    project_id = orm.mapped_column(sa.String(255), nullable=False)
    user_id = orm.mapped_column(sa.String(255), nullable=False)
    policy = orm.mapped_column(sa.String(255), nullable=False)
    rules = orm.mapped_column(JsonEncoded)


class ServerGroupMember(TimestampMixin, Base):
    """An instance's membership of a server group (one group at most)."""

    __tablename__ = 'server_group_members'
    __table_args__ = (
        sa.UniqueConstraint('instance_uuid',
                            name='uniq_server_group_members0instance_uuid'),
        sa.Index('server_group_members_group_uuid_idx', 'group_uuid'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    group_uuid = orm.mapped_column(sa.String(36), nullable=False)
    instance_uuid = orm.mapped_column(sa.String(36), nullable=False)


class Aggregate(TimestampMixin, Base):
    """A host aggregate (``os-aggregates``); its availability zone is its
    ``availability_zone`` metadata key, as Nova keeps it."""

    __tablename__ = 'aggregates'
    __table_args__ = (
        sa.UniqueConstraint('uuid', name='uniq_aggregates0uuid'),
        sa.UniqueConstraint('name', name='uniq_aggregates0name'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    uuid = orm.mapped_column(sa.String(36), nullable=False)
    name = orm.mapped_column(sa.String(255), nullable=False)


class AggregateHost(TimestampMixin, Base):
    """A host's membership of an aggregate."""

    __tablename__ = 'aggregate_hosts'
    __table_args__ = (
        sa.UniqueConstraint('aggregate_id', 'host',
                            name='uniq_aggregate_hosts0aggregate_id0host'),
        sa.Index('aggregate_hosts_host_idx', 'host'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    aggregate_id = orm.mapped_column(sa.Integer, nullable=False)
    host = orm.mapped_column(sa.String(255), nullable=False)


class AggregateMetadata(TimestampMixin, Base):
    """A metadata item of an aggregate."""

    __tablename__ = 'aggregate_metadata'
    __table_args__ = (
        sa.UniqueConstraint('aggregate_id', 'key',
                            name='uniq_aggregate_metadata0aggregate_id0key'),
        sa.Index('aggregate_metadata_key_idx', 'key'),
    )
    id = orm.mapped_column(sa.Integer, primary_key=True)
    aggregate_id = orm.mapped_column(sa.Integer, nullable=False)
    key = orm.mapped_column(sa.String(255), nullable=False)
    value = orm.mapped_column(sa.String(255), nullable=False)


class Job(Base):
    """A job of the SQL jobboard (see orchestrator.conductor.jobboard_sql).

    ``owner`` and ``claim_expires_at`` form the claim's lease; a job whose
    lease expired is claimable again. ``state`` is unclaimed/claimed through
    the owner columns; consumed jobs are deleted, trashed ones kept.
    """

    __tablename__ = 'jobs'
    __table_args__ = (
        sa.Index('jobs_board_trashed_idx', 'board', 'trashed'),
    )
    uuid = orm.mapped_column(sa.String(36), primary_key=True)
    board = orm.mapped_column(sa.String(255), nullable=False)
    name = orm.mapped_column(sa.String(255), nullable=False)
    book_uuid = orm.mapped_column(sa.String(64))
    book_name = orm.mapped_column(sa.String(255))
    details = orm.mapped_column(JsonEncoded)
    priority = orm.mapped_column(sa.Integer, nullable=False, default=0)
    sequence = orm.mapped_column(sa.BigInteger, nullable=False)
    owner = orm.mapped_column(sa.String(255))
    claim_expires_at = orm.mapped_column(PreciseDateTime)
    trashed = orm.mapped_column(sa.Boolean, nullable=False, default=False)
    created_on = orm.mapped_column(PreciseDateTime, nullable=False,
                                   default=utcnow)
    last_modified = orm.mapped_column(PreciseDateTime, nullable=False,
                                      default=utcnow)
