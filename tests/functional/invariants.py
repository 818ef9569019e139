"""The invariant every operation leaves behind, succeeded or rolled back.

:func:`problems` checks plain data (rows of the database, host files of
the fake hosts) and returns what is wrong, as sentences (empty: all
holds). :func:`check_system` gathers the data of an all-in-one and
asserts; :func:`check_engine` does the same for separate processes
(a database URL and the fake hosts' directory).

The invariant, checked once no task runs any more:

1. Guests. Every live instance that has a host and is not in error has
   exactly one guest, on its host, and it is not in a live migration
   (or, resized with its resize waiting in ``finished`` after a revert
   failed once the destination's guest was gone, one on the source).
   No host has a guest, ports or disks of an instance that does not live
   there (deleted, unknown, or on another host), except the source of a
   migration waiting in ``finished`` (a resize kept its guest there) or
   ``done`` (an evacuation's source, down when it ran). At most one
   guest of an instance runs (such a source's guest aside).
2. Allocations. Each live instance with a host holds exactly one
   allocation, on its host, equal to its flavor; one without a host holds
   none. While a resize or cold migration waits in ``finished`` (for
   confirm or revert) the instance's own allocation stays on the
   migration's source with the old flavor. Any other allocation belongs
   to a migration that is in progress or waiting (``finished``,
   ``done``) of a live instance. No allocation, whoever its consumer,
   belongs to a deleted instance, and the usage of every host (what
   ``os-hypervisors`` shows) is the sum of the allocations of live
   instances and of their unfinished migrations.
3. Migrations. None is in a status other than a final or a waiting one;
   none of a deleted instance is in a waiting one either.
"""

import json
import os

from orchestrator import states
from orchestrator.compute.drivers import fake_host_file

#: What a host file keeps per instance besides the guest.
_PER_INSTANCE = ('networks', 'block_devices')


def _resources(instance):
    return {'vcpus': instance['vcpus'],
            'memory_mb': instance['memory_mb'],
            'disk_gb': instance['root_gb'] + (instance['ephemeral_gb'] or 0)}


def _flavor(value):
    """A flavor dict (check_engine reads it as JSON text)."""
    flavor = json.loads(value) if isinstance(value, str) else dict(value)
    flavor.setdefault('ephemeral_gb', 0)
    return flavor


def _waiting_resize(migrations, instance_uuid):
    """The resize or cold migration of the instance waiting in
    ``finished``, or None."""
    for m in migrations:
        if (m['instance_uuid'] == instance_uuid
                and m['status'] == states.MIGRATION_FINISHED
                and m['migration_type'] in ('resize', 'migration')):
            return m
    return None


def _waiting_sources(migrations, live):
    """{instance uuid: {hosts that may keep a guest of it}}: sources of
    migrations of live instances waiting for something outside any
    flow."""
    out = {}
    for m in migrations:
        if (m['status'] in states.MIGRATION_WAITING_STATUSES
                and m['instance_uuid'] in live):
            out.setdefault(m['instance_uuid'], set()).add(
                m['source_compute'])
    return out


def _reverting_on_source(instance, migrations, held):
    """True for a resized instance whose revert failed once the
    destination's guest was destroyed: its resize waits (finished) with
    exactly one guest, on the source, for the revert to be asked again
    (a confirm refuses)."""
    resized = _waiting_resize(migrations, instance['uuid'])
    return (instance['vm_state'] == states.RESIZED and resized is not None
            and [h for h, _g in held] == [resized['source_compute']])


def problems(instances, allocations, migrations, host_states,
             usage=None):
    """What breaks the invariant, as a list of sentences.

    :param instances: instance rows (dicts with uuid, host, vm_state,
        deleted, vcpus, memory_mb, root_gb, ephemeral_gb), deleted ones
        included or not.
    :param allocations: allocation rows (consumer_uuid, instance_uuid,
        host, vcpus, memory_mb, disk_gb).
    :param migrations: migration rows (uuid, instance_uuid, status,
        source_compute, dest_compute, migration_type, old_flavor).
    :param host_states: {host: the fake host file's content}.
    :param usage: {host: {vcpus, memory_mb, disk_gb}} as the hypervisors
        API shows it (:func:`orchestrator.db.allocations.usage_by_host`),
        or None to skip that check.
    """
    found = []
    live = {i['uuid']: i for i in instances if not i['deleted']}
    deleted = {i['uuid'] for i in instances if i['deleted']} - set(live)
    migration_by_uuid = {m['uuid']: m for m in migrations}
    may_keep = _waiting_sources(migrations, live)

    # 1. guests, ports and disks
    guests_of = {}
    for host, state in sorted(host_states.items()):
        for uuid, guest in state['guests'].items():
            guests_of.setdefault(uuid, []).append((host, guest))
        for key in ('guests',) + _PER_INSTANCE:
            for uuid in state[key]:
                instance = live.get(uuid)
                if instance is not None and instance['host'] == host:
                    continue
                if host in may_keep.get(uuid, ()):
                    continue
                where = ('deleted or unknown' if instance is None
                         else 'on %s' % instance['host'])
                found.append('%s of instance %s (%s) left on %s'
                             % (key, uuid, where, host))
    for uuid, instance in sorted(live.items()):
        if not instance['host'] or instance['vm_state'] == states.ERROR:
            continue
        on_own = [g for h, g in guests_of.get(uuid, [])
                  if h == instance['host']]
        if not on_own and _reverting_on_source(instance, migrations,
                                               guests_of.get(uuid, [])):
            continue
        if len(on_own) != 1:
            found.append('instance %s has %d guest(s) on its host %s'
                         % (uuid, len(on_own), instance['host']))
        elif on_own[0].get('live_migration'):
            found.append('the guest of instance %s on %s is still in live '
                         'migration %s' % (uuid, instance['host'],
                                           on_own[0]['live_migration']))
    for uuid, held in sorted(guests_of.items()):
        # A waiting migration's source may keep a guest that shows
        # running (an evacuation's source was down: nobody stopped it).
        running = [h for h, g in held if g['power_state'] == states.RUNNING
                   and h not in may_keep.get(uuid, ())]
        if len(running) > 1:
            found.append('instance %s runs on %d hosts: %s'
                         % (uuid, len(running), ', '.join(running)))

    # 2. allocations
    own = {}
    counted = {}
    for a in allocations:
        consumer = a['consumer_uuid']
        if a['instance_uuid'] in deleted:
            found.append('allocation of %s on %s belongs to deleted '
                         'instance %s' % (consumer, a['host'],
                                          a['instance_uuid']))
            continue
        migration = migration_by_uuid.get(consumer)
        if consumer in live or (
                migration is not None and migration['status']
                not in states.MIGRATION_FINAL_STATUSES
                and migration['instance_uuid'] in live):
            used = counted.setdefault(a['host'], dict.fromkeys(
                ('vcpus', 'memory_mb', 'disk_gb'), 0))
            for key in used:
                used[key] += a[key]
        if consumer in live:
            own.setdefault(consumer, []).append(a)
            continue
        if migration is None:
            found.append('allocation of %s on %s belongs to no live '
                         'instance or migration' % (consumer, a['host']))
        elif migration['status'] in states.MIGRATION_FINAL_STATUSES:
            found.append('migration %s (%s) still holds an allocation on '
                         '%s' % (consumer, migration['status'], a['host']))
    for uuid, instance in sorted(live.items()):
        held = own.get(uuid, [])
        if not instance['host']:
            if held:
                found.append('instance %s has no host but holds %s'
                             % (uuid, [a['host'] for a in held]))
            continue
        expected = [(instance['host'], _resources(instance))]
        resized = _waiting_resize(migrations, uuid)
        if resized is not None:
            expected = [(resized['source_compute'],
                         _resources(_flavor(resized['old_flavor'])))]
        actual = [(a['host'], {'vcpus': a['vcpus'],
                               'memory_mb': a['memory_mb'],
                               'disk_gb': a['disk_gb']}) for a in held]
        if actual != expected:
            found.append('instance %s holds %s, expected %s'
                         % (uuid, actual, expected))

    if usage is not None:
        shown = {h: u for h, u in usage.items() if any(u.values())}
        if shown != counted:
            found.append('host usage %s is not the allocations of live '
                         'instances and their unfinished migrations %s'
                         % (shown, counted))

    # 3. migrations
    for m in migrations:
        if m['status'] not in (states.MIGRATION_FINAL_STATUSES
                               | states.MIGRATION_WAITING_STATUSES):
            found.append('migration %s (%s of %s) is still %s'
                         % (m['uuid'], m['migration_type'],
                            m['instance_uuid'], m['status']))
        elif (m['status'] in states.MIGRATION_WAITING_STATUSES
              and m['instance_uuid'] in deleted):
            found.append('migration %s (%s of deleted instance %s) is '
                         'still %s' % (m['uuid'], m['migration_type'],
                                       m['instance_uuid'], m['status']))
    return found


def system_problems(system):
    """:func:`problems` of an all-in-one (its database and fake hosts,
    running or stopped), the hypervisors' usage included."""
    from orchestrator.db import allocations
    from orchestrator.db import instances
    from orchestrator.db import migration_records
    host_states = {c.host: c.driver.host_state() for c in system.computes}
    return problems(instances.list_(read_deleted=True),
                    allocations.list_all(), migration_records.list_(),
                    host_states, usage=allocations.usage_by_host())


def check_system(system):
    """Assert the invariant on an all-in-one (its database and fake
    hosts, running or stopped)."""
    found = system_problems(system)
    assert not found, '\n'.join(found)


def check_engine(engine, hosts_dir, host_names):
    """Assert the invariant on separate processes: ``engine`` an
    SQLAlchemy engine on their database, ``hosts_dir`` the fake hosts'
    directory, ``host_names`` the hosts."""
    import sqlalchemy as sa
    with engine.connect() as c:
        def rows(sql):
            return [dict(r._mapping) for r in c.execute(sa.text(sql))]
        instances = rows('select uuid, host, vm_state, deleted, vcpus, '
                         'memory_mb, root_gb, ephemeral_gb from instances')
        allocations = rows('select consumer_uuid, instance_uuid, host, '
                           'vcpus, memory_mb, disk_gb from allocations')
        migrations = rows('select uuid, instance_uuid, status, '
                          'migration_type, source_compute, dest_compute, '
                          'old_flavor from migrations')
    host_states = {}
    for host in host_names:
        path = fake_host_file.host_file_path(hosts_dir, host)
        host_states[host] = (fake_host_file.HostFile(hosts_dir, host).read()
                             if os.path.exists(path)
                             else fake_host_file.empty_host_state(host))
    found = problems(instances, allocations, migrations, host_states)
    assert not found, '\n'.join(found)
