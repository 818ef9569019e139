"""Per-project quotas: the overrides, the usage, and the check made in the
same transaction as the claim it guards.

How a claim stays within its project's quota, on every database we run
on:

1. the claim's write transaction first locks its project's row of
   ``project_quotas`` (``SELECT ... FOR UPDATE`` on PostgreSQL and
   MariaDB; on SQLite every write transaction starts with ``BEGIN
   IMMEDIATE`` (:mod:`orchestrator.db.session`), so it holds the database's
   write lock before it reads anything). A project without a row gets one
   in a transaction of its own first (two at once: one inserts, the other
   finds it), then the claim starts again;
2. only then does it count the project's usage from the instances table,
   so it sees every claim committed before it took the lock (PostgreSQL's
   READ COMMITTED reads per statement; on MariaDB the count is the
   transaction's first consistent read, taken after the lock);
3. it compares usage + the claim with the limits (the row's overrides,
   else the configured defaults) and raises
   :class:`~orchestrator.exception.TooManyInstances` (403, Nova's
   message) when a limit would be passed: the transaction rolls back and
   nothing of the claim is written;
4. it writes the claim (the instance, or a resize's migration record) and
   commits, which releases the lock for the project's next claim.

Usage, as Nova counts it from its database: every live (not deleted)
instance of the project counts 1 instance, its vCPUs and its RAM, except
a soft-deleted one (from the moment a restore claims it, it counts
again). An instance with a resize or cold migration open (not in a final
status) while it is in a resize's task or waits in VERIFY_RESIZE counts
the larger of its old and new flavors, until it is confirmed or
reverted.
"""

import sqlalchemy as sa
from oslo_db import exception as db_exc

from orchestrator import exception
from orchestrator import states
from orchestrator.db import models
from orchestrator.db import session

#: Resources counted from the instances table (checked under the lock).
COUNTED = ('instances', 'cores', 'ram')
#: Every resource a project's row holds an override for.
RESOURCES = tuple(
    c.key for c in sa.inspect(models.ProjectQuota).column_attrs
    if c.key not in ('id', 'project_id', 'created_at', 'updated_at'))
#: Unlimited.
UNLIMITED = -1

#: Times a claim starts again after a deadlock the database broke (the
#: transaction was rolled back, nothing was written).
DEADLOCK_RETRIES = 5

#: Task states of a resize or cold migration under way (with vm_state
#: resized: waiting for its confirm or revert).
_RESIZING = frozenset(states.RESIZE_TASK_STATES | {
    states.RESIZE_CONFIRMING, states.RESIZE_REVERTING})

_ROW_COLUMNS = models.attribute_columns(models.ProjectQuota)


class _NoRow(Exception):
    """The project has no row to lock yet (internal)."""


def _overrides_of(row):
    if row is None:
        return {}
    return {key: row[key] for key in RESOURCES if row[key] is not None}


def _select_row(project_id):
    return sa.select(*_ROW_COLUMNS).where(
        models.ProjectQuota.project_id == project_id)


def get_overrides(project_id):
    """{resource: limit} of the project's overrides (none: {})."""
    with session.reader() as s:
        row = s.execute(_select_row(project_id)).mappings().one_or_none()
    return _overrides_of(row)


def _ensure_row(project_id):
    """Insert the project's row unless it exists (in its own transaction,
    so that two claims racing to create it never fail: one inserts, the
    other's duplicate is ignored)."""
    try:
        with session.writer() as s:
            s.execute(sa.insert(models.ProjectQuota).values(
                project_id=project_id, created_at=models.utcnow()))
    except db_exc.DBDuplicateEntry:
        pass


def locked(project_id, work):
    """``work(session, overrides)`` in one write transaction that holds
    the lock of ``project_id``'s row; its result is returned once the
    transaction committed. A deadlock the database broke runs it again
    (nothing of the first attempt was kept)."""
    deadlocks = 0
    ensured = False
    while True:
        try:
            with session.writer() as s:
                row = s.execute(_select_row(project_id).with_for_update()
                                ).mappings().one_or_none()
                if row is None:
                    raise _NoRow()
                return work(s, _overrides_of(row))
        except _NoRow:
            if ensured:
                raise RuntimeError('the quota row of project %s is gone '
                                   'as soon as made' % project_id) from None
            _ensure_row(project_id)
            ensured = True
        except db_exc.DBDeadlock:
            deadlocks += 1
            if deadlocks > DEADLOCK_RETRIES:
                raise


def _counted_instances(project_id, exclude=None):
    instance = models.Instance
    where = [instance.project_id == project_id, instance.deleted == 0,
             sa.or_(instance.vm_state != states.SOFT_DELETED,
                    instance.task_state == states.RESTORING)]
    if exclude is not None:
        where.append(instance.uuid != exclude)
    return where


def _size(flavor, key):
    return int((flavor or {}).get(key) or 0)


def usage_in(s, project_id, exclude=None):
    """{'instances', 'cores', 'ram'} the project uses (read in ``s``;
    ``exclude``: an instance uuid left out)."""
    instance, migration = models.Instance, models.Migration
    counted = _counted_instances(project_id, exclude)
    count, cores, ram = s.execute(
        sa.select(sa.func.count(),
                  sa.func.coalesce(sa.func.sum(instance.vcpus), 0),
                  sa.func.coalesce(sa.func.sum(instance.memory_mb), 0))
        .where(*counted)).one()
    used = {'instances': int(count), 'cores': int(cores), 'ram': int(ram)}
    # Resizes under way: the larger of the two flavors, once per server.
    extra = {}
    resizing = s.execute(
        sa.select(instance.uuid, instance.vcpus, instance.memory_mb,
                  migration.old_flavor, migration.new_flavor)
        .join(migration, migration.instance_uuid == instance.uuid)
        .where(*counted,
               migration.status.not_in(
                   sorted(states.MIGRATION_FINAL_STATUSES)),
               sa.or_(instance.vm_state == states.RESIZED,
                      instance.task_state.in_(sorted(_RESIZING)))))
    for uuid, vcpus, memory_mb, old, new in resizing:
        more_cores = max(_size(old, 'vcpus'), _size(new, 'vcpus')) - vcpus
        more_ram = (max(_size(old, 'memory_mb'), _size(new, 'memory_mb'))
                    - memory_mb)
        before = extra.get(uuid, (0, 0))
        extra[uuid] = (max(before[0], more_cores), max(before[1], more_ram))
    for more_cores, more_ram in extra.values():
        used['cores'] += more_cores
        used['ram'] += more_ram
    return used


def usage(project_id):
    """{'instances', 'cores', 'ram'} the project uses now."""
    with session.reader() as s:
        return usage_in(s, project_id)


class Check:
    """What a claim asks of its project's quota, inside the claim's
    transaction, which holds the project's lock (see :class:`Quota`)."""

    def __init__(self, s, project_id, limits):
        self._session = s
        self.project_id = project_id
        self.limits = limits

    def items(self, resource, count):
        """A request holding ``count`` of ``resource`` (metadata items):
        403 MetadataLimitExceeded above its limit."""
        limit = self.limits[resource]
        if limit != UNLIMITED and count > limit:
            raise exception.MetadataLimitExceeded(allowed=limit)

    def headroom(self, deltas, most):
        """(how many times ``deltas`` fit beside the project's usage, at
        most ``most``; the usage; the limits): a multiple create's
        count."""
        used = usage_in(self._session, self.project_id)
        fit = most
        for resource, delta in deltas.items():
            limit = self.limits[resource]
            if delta > 0 and limit != UNLIMITED:
                fit = min(fit, max(0, (limit - used[resource]) // delta))
        return fit, used, self.limits

    def counted(self, deltas, exclude=None):
        """Raise TooManyInstances (403, Nova's message, every resource
        over its limit named, in order) when the project's usage plus
        ``deltas`` ({resource: amount}) passes a limit. Only positive
        deltas are checked; ``exclude``: an instance uuid whose own usage
        ``deltas`` stands for (a restore)."""
        asked = {r: d for r, d in deltas.items()
                 if d > 0 and self.limits[r] != UNLIMITED}
        if not asked:
            return
        used = usage_in(self._session, self.project_id, exclude)
        overs = sorted(r for r, d in asked.items()
                       if used[r] + d > self.limits[r])
        if overs:
            raise exception.TooManyInstances(
                overs=', '.join(overs),
                req=', '.join(str(asked[r]) for r in overs),
                used=', '.join(str(used[r]) for r in overs),
                allowed=', '.join(str(self.limits[r]) for r in overs))


class _Unchecked:
    """The :class:`Check` of a claim made without a quota."""

    #: No limit is set (every resource unlimited).
    limits = {}

    def headroom(self, deltas, most):
        return most, {}, {}

    def items(self, resource, count):
        pass

    def counted(self, deltas, exclude=None):
        pass


class Quota:
    """The quota of one project: its defaults (``[quota]``, see
    :func:`orchestrator.quota.for_project`) under its overrides."""

    def __init__(self, project_id, defaults):
        self.project_id = project_id
        self.defaults = dict(defaults)

    def limits(self, overrides=None):
        """{resource: limit} (the stored overrides when not given)."""
        if overrides is None:
            overrides = get_overrides(self.project_id)
        return dict(self.defaults, **overrides)

    def run(self, work):
        """``work(session, check)`` in one transaction holding the
        project's lock, ``check`` a :class:`Check` against the project's
        limits; returns its result after the commit."""
        def checked(s, overrides):
            return work(s, Check(s, self.project_id,
                                 self.limits(overrides)))
        return locked(self.project_id, checked)


def transaction(quota, work):
    """``work(session, check)`` in one write transaction: under ``quota``
    (a :class:`Quota`) as :meth:`Quota.run`, or, when it is None, with a
    check that allows everything."""
    if quota is not None:
        return quota.run(work)
    with session.writer() as s:
        return work(s, _Unchecked())


def set_overrides(project_id, values, validate=None):
    """Store ``values`` ({resource: limit}) as the project's overrides,
    in one transaction holding its lock; ``validate(usage)`` (usage as
    :func:`usage_in`) may refuse first by raising. Returns the overrides
    after the write."""
    unknown = set(values) - set(RESOURCES)
    if unknown:
        raise ValueError('unknown quota resources %s' % sorted(unknown))

    def write(s, overrides):
        if validate is not None:
            validate(usage_in(s, project_id))
        if values:
            s.execute(sa.update(models.ProjectQuota).where(
                models.ProjectQuota.project_id == project_id).values(
                    updated_at=models.utcnow(), **values))
        return dict(overrides, **values)
    return locked(project_id, write)


def clear_overrides(project_id):
    """The project's limits are the defaults again (its row stays, all
    overrides NULL). Nothing to do for a project without a row."""
    with session.writer() as s:
        s.execute(sa.update(models.ProjectQuota).where(
            models.ProjectQuota.project_id == project_id).values(
                updated_at=models.utcnow(),
                **{key: None for key in RESOURCES}))
