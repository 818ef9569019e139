"""os-aggregates: Nova's shapes, errors, and the zones it gives hosts."""

import pytest

from orchestrator.db import aggregates as db_aggregates
from orchestrator.db import hosts as db_hosts
from orchestrator.scheduler import host_selection
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

AGG = '/v2.1/os-aggregates'


def _create(app, name, zone=None, status=200, version=None):
    body = {'name': name}
    if zone is not None:
        body['availability_zone'] = zone
    resp = call(app, 'POST', AGG, {'aggregate': body}, version=version)
    assert resp.status_int == status, resp.text
    return resp.json.get('aggregate') if status == 200 else resp


def _act(app, agg_id, key, value, status=200, version=None):
    resp = call(app, 'POST', '%s/%s/action' % (AGG, agg_id), {key: value},
                version=version)
    assert resp.status_int == status, resp.text
    return resp


def _zone_of(host):
    [service] = db_hosts.list_services(
        binary=host_selection.COMPUTE_BINARY, host=host)
    return service['zone']


def test_create_show_list_update_delete(app):
    created = _create(app, 'agg1', 'zone1', version='2.41')
    assert set(created) == {'id', 'name', 'availability_zone', 'created_at',
                            'updated_at', 'deleted', 'deleted_at', 'uuid'}
    assert (created['name'], created['availability_zone'],
            created['deleted'], created['deleted_at']) == (
                'agg1', 'zone1', False, None)
    path = '%s/%d' % (AGG, created['id'])
    shown = call(app, 'GET', path).json['aggregate']
    assert 'uuid' not in shown
    assert (shown['hosts'], shown['metadata']) == (
        [], {'availability_zone': 'zone1'})
    listed = call(app, 'GET', AGG, version='2.41').json['aggregates']
    assert [(a['id'], a['uuid']) for a in listed] == [
        (created['id'], created['uuid'])]
    updated = call(app, 'PUT', path, {'aggregate': {
        'name': 'agg2', 'availability_zone': 'zone2'}}).json['aggregate']
    assert (updated['name'], updated['availability_zone'],
            updated['metadata']) == ('agg2', 'zone2',
                                     {'availability_zone': 'zone2'})
    assert updated['updated_at'] is not None
    resp = call(app, 'DELETE', path)
    assert resp.status_int == 200 and not resp.body
    assert call(app, 'GET', path).status_int == 404
    assert call(app, 'DELETE', path).status_int == 404


def test_create_without_zone_and_duplicates(app):
    created = _create(app, 'plain')
    assert created['availability_zone'] is None
    resp = _create(app, 'plain', status=409)
    assert 'plain' in resp.json['conflictingRequest']['message']
    other = _create(app, 'other')
    resp = call(app, 'PUT', '%s/%d' % (AGG, other['id']),
                {'aggregate': {'name': 'plain'}})
    assert resp.status_int == 409


@pytest.mark.parametrize('body', [
    {}, {'aggregate': {}}, {'aggregate': {'name': ''}},
    {'aggregate': {'name': 'x' * 256}},
    {'aggregate': {'name': ' lead'}},
    {'aggregate': {'name': 'a', 'availability_zone': 'z:1'}},
    {'aggregate': {'name': 'a', 'availability_zone': ''}},
    {'aggregate': {'name': 'a', 'availability_zone': 'internal'}},
    {'aggregate': {'name': 'a', 'other': 1}},
    {'aggregate': 'a'}, [],
])
def test_create_400s(app, body):
    assert call(app, 'POST', AGG, body).status_int == 400


def test_bad_ids_and_unknown_aggregates(app):
    for bad in ('x', '1.5', '--1', '1e3'):
        assert call(app, 'GET', '%s/%s' % (AGG, bad)).status_int == 400
    # An integer no aggregate has is a 404, as Nova (tempest uses -1).
    for unknown in ('42', '-1', '0', '99999999999999999999'):
        assert call(app, 'GET', '%s/%s' % (AGG, unknown)).status_int == 404
        assert call(app, 'DELETE', '%s/%s' % (AGG, unknown)).status_int \
            == 404
    assert call(app, 'PUT', AGG + '/42', {'aggregate': {
        'name': 'n'}}).status_int == 404
    _act(app, 42, 'set_metadata', {'metadata': {'a': 'b'}}, status=404)
    agg = _create(app, 'a')
    resp = call(app, 'PUT', '%s/%d' % (AGG, agg['id']), {'aggregate': {}})
    assert resp.status_int == 400
    for body in ({}, {'add_host': {'host': 'h'}, 'remove_host': {
            'host': 'h'}}, {'add_host': {}}, {'add_host': {'host': 'h',
                                                          'x': 1}},
                 {'set_metadata': {'metadata': {'k' * 256: 'v'}}},
                 {'set_metadata': {'metadata': {'k': 1}}}):
        resp = call(app, 'POST', '%s/%d/action' % (AGG, agg['id']), body)
        assert resp.status_int == 400, body


def test_hosts_and_their_zone(app):
    make_compute_host('h1')
    make_compute_host('h2')
    assert _zone_of('h1') == 'nova'
    agg = _create(app, 'agg', 'az1')
    resp = _act(app, agg['id'], 'add_host', {'host': 'h1'})
    assert resp.json['aggregate']['hosts'] == ['h1']
    assert _zone_of('h1') == 'az1' and _zone_of('h2') == 'nova'
    # A heartbeat reporting the host's own zone does not undo it.
    db_hosts.heartbeat('h1', host_selection.COMPUTE_BINARY, zone='nova')
    assert _zone_of('h1') == 'az1'
    zones = call(app, 'GET', '/v2.1/os-availability-zone').json
    assert sorted(z['zoneName'] for z in zones['availabilityZoneInfo']) == [
        'az1', 'nova']
    _act(app, agg['id'], 'add_host', {'host': 'h1'}, status=409)
    _act(app, agg['id'], 'add_host', {'host': 'nowhere'}, status=404)
    resp = call(app, 'DELETE', '%s/%d' % (AGG, agg['id']))
    assert resp.status_int == 400
    # The zone renamed: the host follows.
    call(app, 'PUT', '%s/%d' % (AGG, agg['id']),
         {'aggregate': {'availability_zone': 'az2'}})
    assert _zone_of('h1') == 'az2'
    _act(app, agg['id'], 'remove_host', {'host': 'h1'})
    assert _zone_of('h1') == 'nova'
    _act(app, agg['id'], 'remove_host', {'host': 'h1'}, status=404)
    _act(app, agg['id'], 'remove_host', {'host': 'nowhere'}, status=404)
    assert call(app, 'DELETE', '%s/%d' % (AGG, agg['id'])).status_int == 200


def test_zone_conflicts(app):
    make_compute_host('h1')
    first = _create(app, 'first', 'az1')
    second = _create(app, 'second', 'az2')
    plain = _create(app, 'plain')
    _act(app, first['id'], 'add_host', {'host': 'h1'})
    # In az1 already: not into another zone's aggregate (409, as Nova).
    resp = _act(app, second['id'], 'add_host', {'host': 'h1'}, status=409)
    assert 'az1' in resp.json['conflictingRequest']['message']
    # A zoneless aggregate takes it; giving that one another zone is 400.
    _act(app, plain['id'], 'add_host', {'host': 'h1'})
    resp = call(app, 'PUT', '%s/%d' % (AGG, plain['id']),
                {'aggregate': {'availability_zone': 'az3'}})
    assert resp.status_int == 400 and 'az1' in resp.text
    _act(app, plain['id'], 'set_metadata',
         {'metadata': {'availability_zone': 'az3'}}, status=400)
    # The same zone is fine.
    _act(app, plain['id'], 'set_metadata',
         {'metadata': {'availability_zone': 'az1'}})
    assert _zone_of('h1') == 'az1'
    # An empty zone is refused, as Nova.
    _act(app, plain['id'], 'set_metadata',
         {'metadata': {'availability_zone': None}}, status=400)


def test_zone_change_refused_with_servers(app):
    make_compute_host('h1')
    agg = _create(app, 'agg', 'az1')
    _act(app, agg['id'], 'add_host', {'host': 'h1'})
    make_instance('active', host='h1')
    resp = call(app, 'PUT', '%s/%d' % (AGG, agg['id']),
                {'aggregate': {'availability_zone': 'az2'}})
    assert resp.status_int == 400 and 'instances' in resp.text
    assert _zone_of('h1') == 'az1'
    # Renaming it is fine.
    resp = call(app, 'PUT', '%s/%d' % (AGG, agg['id']),
                {'aggregate': {'name': 'renamed'}})
    assert resp.status_int == 200


def test_set_metadata_sets_and_deletes(app):
    agg = _create(app, 'meta', version='2.41')
    resp = _act(app, agg['id'], 'set_metadata',
                {'metadata': {'a': '1', 'b': '2'}})
    assert resp.json['aggregate']['metadata'] == {'a': '1', 'b': '2'}
    resp = _act(app, agg['id'], 'set_metadata',
                {'metadata': {'a': None, 'b': '3', 'gone': None}},
                version='2.41')
    body = resp.json['aggregate']
    assert body['metadata'] == {'b': '3'} and body['uuid'] == agg['uuid']


def test_scheduling_by_aggregate_zone(app):
    make_compute_host('h1')
    make_compute_host('h2')
    agg = _create(app, 'agg', 'fast')
    _act(app, agg['id'], 'add_host', {'host': 'h2'})
    resources = {'vcpus': 1, 'memory_mb': 64, 'disk_gb': 1}
    passed, _rejected = host_selection.filter_hosts(
        resources, availability_zone='fast')
    assert passed == ['h2']


def test_deleting_a_compute_service_leaves_its_aggregates(app):
    make_compute_host('h1')
    agg = _create(app, 'agg', 'az1')
    _act(app, agg['id'], 'add_host', {'host': 'h1'})
    [service] = db_hosts.list_services(
        binary=host_selection.COMPUTE_BINARY, host='h1')
    db_hosts.delete_service(service['id'], host_selection.COMPUTE_BINARY)
    assert db_aggregates.get(agg['id'])['hosts'] == []


def test_members_are_refused(member_app):
    assert call(member_app, 'POST', AGG, {'aggregate': {
        'name': 'x'}}).status_int == 403
    assert call(member_app, 'DELETE', AGG + '/1').status_int == 403
    assert call(member_app, 'POST', AGG + '/1/action', {
        'add_host': {'host': 'h'}}).status_int == 403
