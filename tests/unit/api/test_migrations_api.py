"""os-migrateLive, evacuate and the migrations API without a running
system: who may call them, and what is left when no conductor answers."""


import pytest

from orchestrator import states
from orchestrator.db import instances
from orchestrator.db import migration_records
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

LIVE = {'os-migrateLive': {'host': None, 'block_migration': 'auto'}}


@pytest.mark.parametrize('method,path,body', [
    ('POST', '/v2.1/servers/{id}/action', LIVE),
    ('POST', '/v2.1/servers/{id}/action', {'evacuate': {}}),
    ('GET', '/v2.1/os-migrations', None),
    ('GET', '/v2.1/servers/{id}/migrations', None),
    ('GET', '/v2.1/servers/{id}/migrations/1', None),
    ('DELETE', '/v2.1/servers/{id}/migrations/1', None),
])
def test_only_admins(member_app, method, path, body):
    instance = make_instance('active', host='h1')
    resp = call(member_app, method, path.format(id=instance['uuid']), body,
                version='2.47')
    assert resp.status_int == 403, resp.body
    assert migration_records.list_() == []


def test_live_migration_without_a_conductor_is_503_and_fails_the_record(
        app, no_conductor):
    make_compute_host('h1')
    make_compute_host('h2')
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                LIVE, version='2.47')
    assert resp.status_int == 503, resp.body
    after = instances.get(instance['uuid'])
    assert (after['vm_state'], after['task_state']) == ('active', None)
    [migration] = migration_records.list_(instance_uuid=instance['uuid'])
    assert migration['status'] == states.MIGRATION_FAILED
    assert migration['migration_type'] == 'live-migration'


def test_live_migration_of_a_server_on_a_down_host_is_400(app, no_conductor):
    make_compute_host('h1', up=False)
    make_compute_host('h2')
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                LIVE, version='2.47')
    assert resp.status_int == 400
    assert 'h1 is unavailable' in resp.json['badRequest']['message']
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'os-migrateLive': {'host': 'h2', 'block_migration': 'auto',
                                    'force': True}}, version='2.47')
    assert resp.status_int == 400


def test_evacuation_without_a_conductor_is_503_and_fails_the_record(
        app, no_conductor):
    make_compute_host('h1', up=False)
    make_compute_host('h2')
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'evacuate': {'host': 'h2'}}, version='2.47')
    assert resp.status_int == 503, resp.body
    [migration] = migration_records.list_(instance_uuid=instance['uuid'])
    assert migration['status'] == states.MIGRATION_FAILED
    assert (migration['source_compute'], migration['dest_compute']) == (
        'h1', 'h2')
    assert instances.get(instance['uuid'])['task_state'] is None


def test_evacuation_of_a_server_without_a_host_is_400(app, no_conductor):
    instance = make_instance('error')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'evacuate': {}}, version='2.47')
    assert resp.status_int == 400
    assert 'no host' in resp.json['badRequest']['message']


def test_abort_of_another_kind_of_migration_is_400(app):
    instance = make_instance('active', task_state=states.MIGRATING,
                             host='h1')
    migration = migration_records.create(
        instance['uuid'], 'migration', states.MIGRATION_PRE_MIGRATING,
        source_compute='h1')
    resp = call(app, 'DELETE', '/v2.1/servers/%s/migrations/%d'
                % (instance['uuid'], migration['id']), version='2.24')
    assert resp.status_int == 400
    assert 'not a live migration' in resp.json['badRequest']['message']
    assert migration_records.get(migration['uuid'])['status'] == \
        states.MIGRATION_PRE_MIGRATING
