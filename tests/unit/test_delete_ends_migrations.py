"""The delete's end of an instance's migrations and release of its
allocations, step by step against SQLite (flows.tasks.migrations,
flows.tasks.scheduling, orchestrator.db.allocations)."""

import uuid

import pytest

from orchestrator import exception
from orchestrator import states
from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows.tasks import migrations
from flows.tasks import scheduling

RATIOS = {'vcpus': 1.0, 'memory_mb': 1.0, 'disk_gb': 1.0}
ONE = {'vcpus': 1, 'memory_mb': 512, 'disk_gb': 1}


def _instance():
    inst, _act = instances.create(
        {'display_name': 'vm', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1', 'flavor': {'flavorid': '1', 'vcpus': 1,
                                      'memory_mb': 512, 'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1, 'image_ref': 'i',
         'host': 'h1', 'node': 'h1'},
        {'request_id': 'r', 'user_id': 'u', 'project_id': 'p'})
    return inst


def _migration(instance_uuid, kind, status):
    return migration_records.create(instance_uuid, kind, status, 'h1',
                                    dest_compute='h2')


@pytest.fixture
def two_hosts(db):
    for host in ('h1', 'h2'):
        hosts.update_compute_node(host, 4, 8192, 100)


@pytest.mark.parametrize('kind, status, ended', [
    ('resize', states.MIGRATION_FINISHED, states.MIGRATION_CANCELLED),
    ('resize', states.MIGRATION_MIGRATING, states.MIGRATION_CANCELLED),
    ('evacuation', states.MIGRATION_DONE, states.MIGRATION_CANCELLED),
    ('live-migration', states.MIGRATION_RUNNING,
     states.MIGRATION_CANCELLED),
    # Past its point of no return: error, so the flow's reverts go on
    # undoing nothing.
    ('live-migration', states.MIGRATION_POST_MIGRATING,
     states.MIGRATION_ERROR),
    # Final already: kept.
    ('resize', states.MIGRATION_CONFIRMED, states.MIGRATION_CONFIRMED),
    ('live-migration', states.MIGRATION_FAILED, states.MIGRATION_FAILED),
])
def test_every_unfinished_migration_is_ended(db, kind, status, ended):
    inst = _instance()
    migration = _migration(inst['uuid'], kind, status)
    other = _migration(_instance()['uuid'], kind, status)
    step = migrations.EndMigrationsOfDeleted()
    step.execute(inst['uuid'], task_id=inst['task_id'])
    assert migration_records.get(migration['uuid'])['status'] == ended
    # Re-run: nothing more; another instance's migration is untouched.
    assert step.execute(inst['uuid'], task_id=inst['task_id']) == {}
    assert migration_records.get(other['uuid'])['status'] == status


def test_a_status_moved_meanwhile_is_read_again(db, monkeypatch):
    """A preempted live migration crossing its point of no return while
    the delete reads it: the CAS from running fails, the status read
    again is past the return, and the migration ends in error."""
    inst = _instance()
    migration = _migration(inst['uuid'], 'live-migration',
                           states.MIGRATION_RUNNING)
    real_set_status = migration_records.set_status

    def racing_set_status(migration_uuid, status, from_statuses=None,
                          **values):
        if from_statuses == {states.MIGRATION_RUNNING}:
            real_set_status(migration_uuid, states.MIGRATION_POST_MIGRATING)
        return real_set_status(migration_uuid, status, from_statuses,
                               **values)

    monkeypatch.setattr(migration_records, 'set_status', racing_set_status)
    assert migrations.end_for_delete(inst['uuid']) == {
        migration['uuid']: states.MIGRATION_ERROR}


def test_the_delete_step_checks_its_claim(db):
    inst = _instance()
    migration = _migration(inst['uuid'], 'resize',
                           states.MIGRATION_FINISHED)
    with pytest.raises(exception.Preempted):
        migrations.EndMigrationsOfDeleted().execute(
            inst['uuid'], task_id=str(uuid.uuid4()))
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_FINISHED


def test_release_takes_the_migrations_allocations_too(two_hosts):
    inst = _instance()
    mine = _instance()
    migration = _migration(inst['uuid'], 'resize',
                           states.MIGRATION_FINISHED)
    allocations.claim(inst['uuid'], inst['uuid'], 'h1', ONE, RATIOS)
    allocations.claim(migration['uuid'], inst['uuid'], 'h2', ONE, RATIOS)
    allocations.claim(mine['uuid'], mine['uuid'], 'h2', ONE, RATIOS)
    scheduling.ReleaseResources().execute(None, inst['uuid'],
                                          inst['task_id'])
    assert allocations.list_for_instance(inst['uuid']) == []
    assert [a['consumer_uuid'] for a in allocations.list_all()] == [
        mine['uuid']]
    assert allocations.usage_by_host() == {'h2': ONE}
