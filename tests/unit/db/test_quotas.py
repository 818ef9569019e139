"""Quotas in the claim's transaction (orchestrator.db.quotas), on SQLite,
PostgreSQL and MariaDB.

* a create over the instances, cores or ram quota is refused with
  Nova's message and inserts nothing; metadata items too;
* usage as Nova counts it: deleted and soft-deleted servers do not
  count, a server being restored does; a server being resized counts
  the larger of its flavors until the resize is confirmed or reverted;
* a resize claim whose growth does not fit is undone whole (no task,
  no migration record, no action);
* the race: 100 threads create at once against a quota of 10, at the
  database layer; the API's own race is in
  tests/unit/api/test_quotas_api.py.
"""

import uuid

import pytest
import sqlalchemy as sa

from orchestrator import exception
from orchestrator import quota
from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.db import instances
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import quotas as db_quotas
from orchestrator.db import session
from tests import racing

PROJECT = 'quota-project'
TINY = {'flavorid': '1', 'name': 'm1.tiny', 'vcpus': 1, 'memory_mb': 512,
        'root_gb': 1}
MEDIUM = {'flavorid': '3', 'name': 'm1.medium', 'vcpus': 2,
          'memory_mb': 4096, 'root_gb': 40}


@pytest.fixture
def project_quota(database, conf):
    """The quota of PROJECT with the configured defaults."""
    return quota.for_project(conf, PROJECT)


def _values(flavor=TINY, project_id=PROJECT, **extra):
    values = {'display_name': 'quota-test', 'project_id': project_id,
              'user_id': 'quota-user', 'flavor_id': flavor['flavorid'],
              'flavor': dict(flavor), 'vcpus': flavor['vcpus'],
              'memory_mb': flavor['memory_mb'],
              'root_gb': flavor['root_gb'], 'image_ref': 'image'}
    values.update(extra)
    return values


def _create(the_quota, flavor=TINY, **extra):
    return instances.create(
        _values(flavor, **extra),
        {'request_id': 'req-%s' % uuid.uuid4(), 'user_id': 'quota-user',
         'project_id': PROJECT}, quota=the_quota)[0]


def _rows(model, **where):
    with session.reader() as sess:
        return sess.execute(sa.select(sa.func.count()).select_from(
            model).filter_by(**where)).scalar()


def _set(instance_uuid, **values):
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(**values))


def test_instances_quota_refuses_with_novas_message(project_quota):
    db_quotas.set_overrides(PROJECT, {'instances': 3})
    for _ in range(3):
        _create(project_quota)
    with pytest.raises(exception.TooManyInstances) as caught:
        _create(project_quota)
    assert caught.value.code == 403
    assert str(caught.value) == (
        'Quota exceeded for instances: Requested 1, but already used 3 '
        'of 3 instances')
    assert _rows(models.Instance, project_id=PROJECT) == 3
    assert _rows(models.InstanceAction, project_id=PROJECT) == 3


def test_cores_and_ram_quotas_name_every_resource_over(project_quota):
    db_quotas.set_overrides(PROJECT, {'cores': 3, 'ram': 4500})
    _create(project_quota)                       # 1 core, 512 MB
    with pytest.raises(exception.TooManyInstances) as caught:
        _create(project_quota, MEDIUM, display_name='too-big')
    # 1 + 2 cores fit in 3; 512 + 4096 MB do not fit in 4500.
    assert str(caught.value) == (
        'Quota exceeded for ram: Requested 4096, but already used 512 of '
        '4500 ram')
    db_quotas.set_overrides(PROJECT, {'cores': 2, 'ram': 4000})
    with pytest.raises(exception.TooManyInstances) as caught:
        _create(project_quota, MEDIUM)
    assert str(caught.value) == (
        'Quota exceeded for cores, ram: Requested 2, 4096, but already '
        'used 1, 512 of 2, 4000 cores, ram')
    assert _rows(models.Instance, project_id=PROJECT) == 1


def test_unlimited_and_other_projects(project_quota, conf):
    conf.set_override('instances', -1, group='quota')
    unlimited = quota.for_project(conf, PROJECT)
    for _ in range(12):
        _create(unlimited)
    # Another project's servers never count against this one's quota.
    db_quotas.set_overrides('someone-else', {'instances': 1})
    other = quota.for_project(conf, 'someone-else')
    _create(other, project_id='someone-else')
    with pytest.raises(exception.TooManyInstances):
        _create(other, project_id='someone-else')


def test_metadata_items_quota(project_quota):
    db_quotas.set_overrides(PROJECT, {'metadata_items': 2})
    _create(project_quota, metadata={'a': '1', 'b': '2'})
    with pytest.raises(exception.MetadataLimitExceeded) as caught:
        _create(project_quota, metadata={'a': '1', 'b': '2', 'c': '3'})
    assert str(caught.value) == 'Maximum number of metadata items exceeds 2'
    assert caught.value.code == 403


def test_usage_counts_as_nova(project_quota):
    """Deleted and soft-deleted servers do not count (Nova's count from
    its database); a soft-deleted server being restored does."""
    kept = _create(project_quota)
    deleted = _create(project_quota)
    soft = _create(project_quota, MEDIUM)
    _set(deleted['uuid'], vm_state=s.DELETED, deleted=1)
    _set(soft['uuid'], vm_state=s.SOFT_DELETED, task_state=None)
    assert db_quotas.usage(PROJECT) == {'instances': 1, 'cores': 1,
                                        'ram': 512}
    _set(soft['uuid'], task_state=s.RESTORING)
    assert db_quotas.usage(PROJECT) == {'instances': 2, 'cores': 3,
                                        'ram': 4608}
    _set(kept['uuid'], vm_state=s.ERROR, task_state=None)
    assert db_quotas.usage(PROJECT)['instances'] == 2


def _resize_record(instance, status, old=TINY, new=MEDIUM):
    return migration_records.create(
        instance['uuid'], 'resize', status, 'h1', dest_compute='h2',
        old_flavor=dict(old), new_flavor=dict(new), project_id=PROJECT)


def test_resize_counts_the_larger_flavor_until_confirmed_or_reverted(
        project_quota):
    server = _create(project_quota)
    # The claim and its record: the server still has its old flavor.
    _set(server['uuid'], vm_state=s.ACTIVE, task_state=s.RESIZE_PREP)
    migration = _resize_record(server, s.MIGRATION_PRE_MIGRATING)
    assert db_quotas.usage(PROJECT) == {'instances': 1, 'cores': 2,
                                        'ram': 4096}
    # Resized, waiting in VERIFY_RESIZE with the new flavor.
    _set(server['uuid'], vm_state=s.RESIZED, task_state=None, vcpus=2,
         memory_mb=4096)
    for status in (s.MIGRATION_MIGRATING, s.MIGRATION_POST_MIGRATING,
                   s.MIGRATION_FINISHED):
        migration_records.set_status(migration['uuid'], status)
    assert db_quotas.usage(PROJECT)['cores'] == 2
    # Reverting: back on the old flavor, still counting the larger one
    # until the revert ends.
    _set(server['uuid'], task_state=s.RESIZE_REVERTING, vcpus=1,
         memory_mb=512)
    migration_records.set_status(migration['uuid'], s.MIGRATION_REVERTING)
    assert db_quotas.usage(PROJECT) == {'instances': 1, 'cores': 2,
                                        'ram': 4096}
    _set(server['uuid'], vm_state=s.ACTIVE, task_state=None)
    migration_records.set_status(migration['uuid'], s.MIGRATION_REVERTED)
    assert db_quotas.usage(PROJECT) == {'instances': 1, 'cores': 1,
                                        'ram': 512}


def test_a_downsize_counts_the_old_flavor_until_confirmed(project_quota):
    server = _create(project_quota, MEDIUM)
    _set(server['uuid'], vm_state=s.RESIZED, task_state=None, vcpus=1,
         memory_mb=512)
    migration = _resize_record(server, s.MIGRATION_FINISHED, old=MEDIUM,
                               new=TINY)
    assert db_quotas.usage(PROJECT)['cores'] == 2
    _set(server['uuid'], vm_state=s.ACTIVE)
    migration_records.set_status(migration['uuid'], s.MIGRATION_CONFIRMING)
    migration_records.set_status(migration['uuid'], s.MIGRATION_CONFIRMED)
    assert db_quotas.usage(PROJECT)['cores'] == 1


def test_a_migration_left_open_by_a_decided_task_does_not_count(
        project_quota):
    """The deadline watchdog ends a stuck resize (task_state cleared,
    vm_state kept) without touching its record: the server is not being
    resized any more and counts its own flavor."""
    server = _create(project_quota)
    _set(server['uuid'], vm_state=s.ACTIVE, task_state=None)
    _resize_record(server, s.MIGRATION_PRE_MIGRATING)
    assert db_quotas.usage(PROJECT)['cores'] == 1


def _claim_resize(the_quota, server, new_flavor):
    def record(sess, instance, check):
        check.counted(quota.upsize_deltas(instance['flavor'], new_flavor))
        migration_records.create_in(
            sess, instance['uuid'], 'resize', s.MIGRATION_PRE_MIGRATING,
            instance['host'], old_flavor=instance['flavor'],
            new_flavor=new_flavor, project_id=PROJECT)
    return instances.claim(
        server['uuid'], sm.RESIZE,
        {'request_id': 'req-%s' % uuid.uuid4(), 'user_id': 'quota-user',
         'project_id': PROJECT}, quota=the_quota, within=record)


def test_a_resize_claim_over_quota_is_undone_whole(project_quota):
    db_quotas.set_overrides(PROJECT, {'cores': 2})
    first = _create(project_quota, host='h1')
    second = _create(project_quota, host='h1')
    for server in (first, second):
        _set(server['uuid'], vm_state=s.ACTIVE, task_state=None)
    with pytest.raises(exception.TooManyInstances) as caught:
        _claim_resize(project_quota, first, dict(MEDIUM))
    assert str(caught.value) == (
        'Quota exceeded for cores: Requested 1, but already used 2 of 2 '
        'cores')
    row = instances.get(first['uuid'])
    assert row['task_state'] is None and row['vm_state'] == s.ACTIVE
    assert migration_records.list_(instance_uuid=first['uuid']) == []
    assert _rows(models.InstanceAction, instance_uuid=first['uuid'],
                 action=sm.RESIZE) == 0

    db_quotas.set_overrides(PROJECT, {'cores': 3})
    claimed, _action = _claim_resize(project_quota, first, dict(MEDIUM))
    assert claimed['task_state'] == s.RESIZE_PREP
    [record] = migration_records.list_(instance_uuid=first['uuid'])
    assert record['status'] == s.MIGRATION_PRE_MIGRATING
    # From the request on, the resize holds the larger flavor: nothing
    # else fits any more.
    assert db_quotas.usage(PROJECT)['cores'] == 3
    with pytest.raises(exception.TooManyInstances):
        _create(project_quota)


def test_every_stored_resource_has_a_default(conf):
    assert set(quota.defaults(conf)) == set(db_quotas.RESOURCES)
    assert set(db_quotas.COUNTED) <= set(db_quotas.RESOURCES)


def test_overrides_are_stored_and_cleared(database):
    assert db_quotas.get_overrides(PROJECT) == {}
    assert db_quotas.set_overrides(PROJECT, {'instances': 5, 'ram': -1}) \
        == {'instances': 5, 'ram': -1}
    assert db_quotas.set_overrides(PROJECT, {'cores': 7}) == {
        'instances': 5, 'ram': -1, 'cores': 7}
    assert db_quotas.get_overrides(PROJECT) == {'instances': 5, 'ram': -1,
                                                'cores': 7}
    db_quotas.clear_overrides(PROJECT)
    assert db_quotas.get_overrides(PROJECT) == {}
    with pytest.raises(ValueError):
        db_quotas.set_overrides(PROJECT, {'networks': 1})


#: The race: creates at once, and the quota they race for.
RACERS = 100
LIMIT = 10


def test_100_concurrent_creates_never_pass_a_quota_of_10(project_quota):
    """The project has no row yet: the racers also race to create it."""
    db_quotas.set_overrides('unrelated', {'instances': 1})
    quota_of_10 = db_quotas.Quota(PROJECT, dict(project_quota.defaults,
                                                instances=LIMIT))
    outcomes, samples = racing.race(
        lambda i: _create(quota_of_10, display_name='racer-%d' % i),
        RACERS, lambda: db_quotas.usage(PROJECT)['instances'])
    accepted = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if not isinstance(o, dict)]
    assert len(accepted) == LIMIT, refused[:3]
    assert len(refused) == RACERS - LIMIT
    for error in refused:
        assert isinstance(error, exception.TooManyInstances), repr(error)
        assert str(error) == (
            'Quota exceeded for instances: Requested 1, but already used '
            '10 of 10 instances')
    assert max(samples) == LIMIT and min(samples) >= 0
    assert _rows(models.Instance, project_id=PROJECT) == LIMIT
    print('%s: %d accepted, %d refused (403), usage sampled %d times, '
          'at most %d' % (session.get_engine().dialect.name, len(accepted),
                          len(refused), len(samples), max(samples)))
