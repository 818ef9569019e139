"""The console's hosts page: each compute host's capacity, usage, state
and guests, and the migrations in flight (JSON dicts). For
administrators: every project's servers are named.

Usage is the sum of the host's allocations (as ``os-hypervisors``); a
host is up while its compute service heartbeats within ``[DEFAULT]
service_down_time_s`` and is not forced down. One query each for the
nodes, the services, the usage, the guests and the migrations.
"""

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.console import server_pages
from orchestrator.db import allocations as db_allocations
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records

_NO_USAGE = {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0}


def _host(node, service, usage, guests, down_time_s):
    up = service is not None and db_hosts.is_up(service, down_time_s)
    return {
        'name': node['host'],
        'zone': service['zone'] if service else None,
        'state': 'up' if up else 'down',
        'enabled': bool(service) and not service['disabled'],
        'disabled_reason': service['disabled_reason'] if service else None,
        'forced_down': bool(service and service['forced_down']),
        'vcpus': node['vcpus'], 'vcpus_used': usage['vcpus'],
        'memory_mb': node['memory_mb'],
        'memory_mb_used': usage['memory_mb'],
        'local_gb': node['local_gb'], 'local_gb_used': usage['disk_gb'],
        'servers': [{'id': g['uuid'], 'name': g['display_name'] or '',
                     'status': server_pages.status(g),
                     'project_id': g['project_id']} for g in guests],
    }


def _progress(migration, instance):
    total = migration.get('memory_total')
    if total:
        return round(100.0 * (migration.get('memory_processed') or 0)
                     / total, 1)
    return (instance or {}).get('progress')


def migrations_in_flight():
    """The migrations not in a final status, oldest first."""
    statuses = set()
    for migration_type in states.MIGRATION_TYPES:
        statuses |= state_machine.migration_statuses(migration_type)
    found = migration_records.list_(
        statuses=statuses - states.MIGRATION_FINAL_STATUSES)
    found.reverse()
    instances = {}
    for migration in found:
        uuid = migration['instance_uuid']
        if uuid not in instances:
            try:
                instances[uuid] = db_instances.get(uuid, read_deleted=True)
            except exception.InstanceNotFound:
                instances[uuid] = None
    return [{
        'uuid': m['uuid'], 'instance': m['instance_uuid'],
        'instance_name': (instances[m['instance_uuid']] or {}).get(
            'display_name'),
        'source': m['source_compute'], 'dest': m['dest_compute'],
        'type': m['migration_type'], 'status': m['status'],
        'progress': _progress(m, instances[m['instance_uuid']]),
    } for m in found]


def hosts_page(conf):
    """{'hosts': [...], 'migrations': [...]}."""
    services = {s['host']: s for s in db_hosts.list_services()
                if 'compute' in s['binary']}
    usage = db_allocations.usage_by_host()
    guests = {}
    for guest in db_instances.live_on_hosts():
        guests.setdefault(guest['host'], []).append(guest)
    hosts = [_host(node, services.get(node['host']),
                   usage.get(node['host'], _NO_USAGE),
                   guests.get(node['host'], []), conf.service_down_time_s)
             for node in sorted(db_hosts.list_compute_nodes(),
                                key=lambda n: n['host'])]
    return {'hosts': hosts, 'migrations': migrations_in_flight()}
