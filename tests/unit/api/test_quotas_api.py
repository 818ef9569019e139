"""GET /limits and /os-quota-sets, and the quota checks of create,
resize and restore, through the WSGI app.

Shapes are checked against tempest.lib's schemas at the microversions
that change them (2.36 drops nova-network's keys, 2.39 maxImageMeta,
2.57 file injection's); 100 concurrent creates race against a quota of
10 on SQLite, PostgreSQL and MariaDB.
"""

import pytest

from orchestrator import states
from orchestrator.api import limits
from orchestrator.api import quota_sets
from orchestrator.db import catalog
from orchestrator.db import instances as db_instances
from orchestrator.db import migration_records
from orchestrator.db import quotas as db_quotas
from tests import racing
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state
from tests.unit.api.conftest import persona_app

QUOTA_SET = '/v2.1/os-quota-sets/'
OTHER = 'other-project'

#: microversion -> tempest's schema module of its limits body.
LIMITS_SCHEMAS = {'2.1': 'v2_1', '2.35': 'v2_1', '2.36': 'v2_36',
                  '2.38': 'v2_36', '2.39': 'v2_39', '2.47': 'v2_39'}
#: microversion -> tempest's schema module of its quota set bodies.
QUOTA_SCHEMAS = {'2.1': 'v2_1', '2.35': 'v2_1', '2.36': 'v2_36',
                 '2.47': 'v2_36'}
NETWORK_LIMITS = {'maxTotalFloatingIps', 'maxSecurityGroups',
                  'maxSecurityGroupRules', 'totalFloatingIpsUsed',
                  'totalSecurityGroupsUsed'}
NETWORK_QUOTAS = {'fixed_ips', 'floating_ips', 'security_groups',
                  'security_group_rules'}


def _server(flavor='1', name='q', **extra):
    server = {'name': name, 'imageRef': CIRROS, 'flavorRef': flavor}
    server.update(extra)
    return {'server': server}


def _put(app, project_id, values, version=None):
    return call(app, 'PUT', QUOTA_SET + project_id, {'quota_set': values},
                version=version)


def _reader(conf, project_id=PROJECT):
    return persona_app(conf, 'reader', project_id, ['reader'])


# -- GET /limits -------------------------------------------------------------

@pytest.mark.parametrize('version', sorted(LIMITS_SCHEMAS))
def test_limits_shape_per_microversion(app, conductor, version):
    make_instance('active', flavor_id='3')
    resp = call(app, 'GET', '/v2.1/limits', version=version)
    body = oracle.check(resp, LIMITS_SCHEMAS[version], 'limits',
                        'get_limit')
    absolute = body['limits']['absolute']
    assert body['limits']['rate'] == []
    assert absolute['maxTotalInstances'] == 10
    assert absolute['maxTotalCores'] == 20
    assert absolute['maxTotalRAMSize'] == 51200
    assert absolute['totalInstancesUsed'] == 1
    assert absolute['totalCoresUsed'] == 2
    assert absolute['totalRAMUsed'] == 4096
    assert absolute['maxServerMeta'] == 128
    assert absolute['maxTotalKeypairs'] == 100
    assert absolute['maxServerGroups'] == 10
    assert absolute['maxServerGroupMembers'] == 10
    assert absolute['totalServerGroupsUsed'] == 0
    asked = tuple(map(int, version.split('.')))
    assert NETWORK_LIMITS & set(absolute) == (
        NETWORK_LIMITS if asked < (2, 36) else set())
    assert ('maxImageMeta' in absolute) == (asked < (2, 39))
    assert absolute['maxPersonality'] == 5
    assert absolute['maxPersonalitySize'] == 10240


def test_limits_body_at_2_57_drops_file_injection():
    """At 2.57 the limits drop file injection; the body the
    table gives there is what Nova's is, by tempest's schema."""
    used = {'instances': 1, 'cores': 1, 'ram': 512}
    every = {r: 7 for r in db_quotas.RESOURCES}
    body = {'limits': {'rate': [], 'absolute': limits.absolute(
        (2, 57), every, used)}}
    oracle.validate(body, 'v2_57', 'limits', 'get_limit')
    assert 'maxPersonality' not in body['limits']['absolute']
    assert 'maxPersonalitySize' not in body['limits']['absolute']
    shown = quota_sets.shown((2, 57))
    oracle.validate({'quota_set': dict({r: 7 for r in shown}, id='p')},
                    'v2_57', 'quotas', 'get_quota_set')
    assert not {'injected_files', 'injected_file_content_bytes',
                'injected_file_path_bytes'} & set(shown)


def test_limits_follow_the_projects_overrides(app, conductor):
    assert _put(app, PROJECT, {'instances': 3, 'ram': -1}).status_int == 200
    absolute = call(app, 'GET', '/v2.1/limits').json['limits']['absolute']
    assert absolute['maxTotalInstances'] == 3
    assert absolute['maxTotalRAMSize'] == -1
    assert absolute['maxTotalCores'] == 20


def test_limits_of_another_project_for_admins_only(app, conf, conductor):
    make_instance('active', project_id=OTHER, flavor_id='4')
    _put(app, OTHER, {'cores': 8})
    resp = call(app, 'GET', '/v2.1/limits?tenant_id=%s' % OTHER)
    absolute = resp.json['limits']['absolute']
    assert (absolute['maxTotalCores'], absolute['totalCoresUsed'],
            absolute['totalInstancesUsed']) == (8, 4, 1)
    # A member sees its own project's, never another's (not even with
    # its own id in tenant_id, as in Nova).
    member = persona_app(conf, 'member', PROJECT, ['member'])
    own = call(member, 'GET', '/v2.1/limits').json['limits']['absolute']
    assert (own['totalInstancesUsed'], own['maxTotalCores']) == (0, 20)
    for tenant in (OTHER, PROJECT):
        resp = call(member, 'GET', '/v2.1/limits?tenant_id=' + tenant)
        assert resp.status_int == 403
        assert 'os_compute_api:limits:other_project' in \
            resp.json['forbidden']['message']
    anonymous = persona_app(conf, 'nobody', PROJECT, [])
    assert call(anonymous, 'GET', '/v2.1/limits').status_int == 403


# -- os-quota-sets: shapes ---------------------------------------------------

@pytest.mark.parametrize('version', sorted(QUOTA_SCHEMAS))
def test_quota_set_shapes_per_microversion(app, conductor, version):
    module = QUOTA_SCHEMAS[version]
    make_instance('active', flavor_id='2')
    shown = oracle.check(call(app, 'GET', QUOTA_SET + PROJECT,
                              version=version),
                         module, 'quotas', 'get_quota_set')['quota_set']
    assert shown['id'] == PROJECT
    assert (shown['instances'], shown['cores'], shown['ram']) == (
        10, 20, 51200)
    old = tuple(map(int, version.split('.'))) < (2, 36)
    assert NETWORK_QUOTAS & set(shown) == (NETWORK_QUOTAS if old else set())

    detail = oracle.check(call(app, 'GET', QUOTA_SET + PROJECT + '/detail',
                               version=version),
                          module, 'quotas', 'get_quota_set_details')
    detail = detail['quota_set']
    assert set(detail) == set(shown)
    assert detail['instances'] == {'limit': 10, 'in_use': 1, 'reserved': 0}
    assert detail['cores'] == {'limit': 20, 'in_use': 1, 'reserved': 0}
    assert detail['ram'] == {'limit': 51200, 'in_use': 2048, 'reserved': 0}
    assert detail['key_pairs'] == {'limit': 100, 'in_use': 0, 'reserved': 0}

    defaults = oracle.check(
        call(app, 'GET', QUOTA_SET + 'anyone/defaults', version=version),
        module, 'quotas', 'get_quota_set')['quota_set']
    assert defaults['id'] == 'anyone'
    assert defaults['metadata_items'] == 128

    updated = oracle.check(_put(app, PROJECT, {'instances': 12},
                                version=version),
                           module, 'quotas', 'update_quota_set')
    assert 'id' not in updated['quota_set']
    assert updated['quota_set']['instances'] == 12
    oracle.check(call(app, 'DELETE', QUOTA_SET + PROJECT, version=version),
                 module, 'quotas', 'delete_quota')


def test_update_then_delete_restores_the_defaults(app, conf):
    conf.set_override('cores', 40, group='quota')
    resp = _put(app, OTHER, {'instances': '25', 'ram': 1024,
                             'key_pairs': 0})
    assert resp.json['quota_set']['instances'] == 25
    shown = call(app, 'GET', QUOTA_SET + OTHER).json['quota_set']
    assert (shown['instances'], shown['ram'], shown['key_pairs'],
            shown['cores']) == (25, 1024, 0, 40)
    # The defaults stay the configured ones; other projects keep them.
    assert call(app, 'GET', QUOTA_SET + OTHER + '/defaults').json[
        'quota_set']['instances'] == 10
    assert call(app, 'GET', QUOTA_SET + PROJECT).json['quota_set'][
        'instances'] == 10
    resp = call(app, 'DELETE', QUOTA_SET + OTHER)
    assert resp.status_int == 202 and not resp.body
    shown = call(app, 'GET', QUOTA_SET + OTHER).json['quota_set']
    assert (shown['instances'], shown['ram'], shown['cores']) == (
        10, 51200, 40)


# -- os-quota-sets: bad input ------------------------------------------------

@pytest.mark.parametrize('values, version, expected', [
    ({'instances': 'ten'}, None, 'does not match'),
    ({'instances': -2}, None, 'less than the minimum of -1'),
    ({'instances': 2 ** 31}, None, 'greater than the maximum'),
    ({'instances': '-5'}, None, 'must be between -1 and 2147483647'),
    ({'instances': '99999999999999999999'}, None,
     'must be between -1 and 2147483647'),
    ({'instances': 1.5}, None, "is not of type 'integer', 'string'"),
    ({'instances': None}, None, "is not of type 'integer', 'string'"),
    ({'no_such_quota': 1}, None, 'Additional properties are not allowed'),
    ({'floating_ips': 1}, '2.36', 'Additional properties are not allowed'),
    ({'networks': 1}, '2.35', 'The networks quota has been removed'),
    ({'networks': 1}, '2.36', 'Additional properties are not allowed'),
    ({'force': 'maybe'}, None, "'maybe' is not one of"),
])
def test_bad_updates_are_400(app, values, version, expected):
    resp = _put(app, OTHER, values, version=version)
    assert resp.status_int == 400, resp.text
    assert expected in resp.json['badRequest']['message']
    assert db_quotas.get_overrides(OTHER) == {}


@pytest.mark.parametrize('body', [{}, {'quota_set': 3}, [],
                                  {'quota_set': {}, 'more': 1}])
def test_malformed_update_bodies_are_400(app, body):
    resp = call(app, 'PUT', QUOTA_SET + OTHER, body)
    assert resp.status_int == 400, resp.text


def test_nova_network_quotas_are_stored_below_2_36(app):
    resp = _put(app, OTHER, {'floating_ips': 4}, version='2.35')
    assert resp.json['quota_set']['floating_ips'] == 4
    assert 'floating_ips' not in call(
        app, 'GET', QUOTA_SET + OTHER, version='2.36').json['quota_set']


def test_a_limit_below_usage_needs_force(app, conductor):
    for _ in range(3):
        make_instance('active')
    resp = _put(app, PROJECT, {'instances': 2, 'cores': 5})
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == (
        'Quota limit 2 for instances must be greater than or equal to '
        'already used and reserved 3.')
    assert db_quotas.get_overrides(PROJECT) == {}
    resp = _put(app, PROJECT, {'instances': 2, 'force': 'True'})
    assert resp.status_int == 200
    assert resp.json['quota_set']['instances'] == 2
    # Over its quota now: no more servers, Nova's message.
    resp = call(app, 'POST', '/v2.1/servers', _server())
    assert resp.json == {'forbidden': {
        'code': 403, 'message': 'Quota exceeded for instances: Requested 1, '
                                'but already used 3 of 2 instances'}}


def test_per_user_quotas_cannot_be_set_and_a_user_has_the_projects(app):
    """Setting or deleting a user's quotas is a 400; reading them (tempest
    test_get_quotas) shows the project's limits, the ones that apply."""
    assert _put(app, PROJECT, {'instances': 7}).status_int == 200
    for path in (QUOTA_SET + PROJECT, QUOTA_SET + PROJECT + '/detail'):
        own = call(app, 'GET', path)
        resp = call(app, 'GET', path + '?user_id=someone')
        assert resp.status_int == 200, resp.text
        assert resp.json == own.json
    assert resp.json['quota_set']['instances']['limit'] == 7
    for method, path in (('DELETE', QUOTA_SET + PROJECT),):
        resp = call(app, method, path + '?user_id=someone')
        assert resp.status_int == 400
        assert 'Per-user quotas' in resp.json['badRequest']['message']
    resp = call(app, 'PUT', QUOTA_SET + PROJECT + '?user_id=x',
                {'quota_set': {'instances': 3}})
    assert resp.status_int == 400


def test_a_project_id_too_long_to_store_is_400(app):
    resp = _put(app, 'p' * 256, {'instances': 3})
    assert resp.status_int == 400
    assert _put(app, 'p' * 255, {'instances': 3}).status_int == 200


# -- os-quota-sets: who may --------------------------------------------------

def test_members_and_readers_see_their_projects_quotas_only(conf, app):
    _put(app, PROJECT, {'instances': 4})
    for persona in (persona_app(conf, 'member', PROJECT, ['member']),
                    _reader(conf)):
        shown = call(persona, 'GET', QUOTA_SET + PROJECT)
        assert shown.status_int == 200
        assert shown.json['quota_set']['instances'] == 4
        assert call(persona, 'GET',
                    QUOTA_SET + PROJECT + '/detail').status_int == 200
        for path in (QUOTA_SET + OTHER, QUOTA_SET + OTHER + '/detail'):
            resp = call(persona, 'GET', path)
            assert resp.status_int == 403, path
        # The defaults are nobody's: any reader may see them.
        assert call(persona, 'GET',
                    QUOTA_SET + OTHER + '/defaults').status_int == 200
        for method, path, body in (
                ('PUT', QUOTA_SET + PROJECT, {'quota_set': {'cores': 99}}),
                ('DELETE', QUOTA_SET + PROJECT, None)):
            resp = call(persona, method, path, body)
            assert resp.status_int == 403
            assert 'os-quota-sets' in resp.json['forbidden']['message']
    assert db_quotas.get_overrides(PROJECT) == {'instances': 4}
    # Without a role, not even the defaults.
    nobody = persona_app(conf, 'nobody', PROJECT, [])
    assert call(nobody, 'GET',
                QUOTA_SET + PROJECT + '/defaults').status_int == 403


# -- the checks of create, resize and restore --------------------------------

def test_create_over_quota_is_403_and_inserts_nothing(conf, app,
                                                      conductor):
    _put(app, PROJECT, {'instances': 2, 'cores': 3})
    member = persona_app(conf, 'member', PROJECT, ['member'])
    assert call(member, 'POST', '/v2.1/servers',
                _server('3')).status_int == 202          # 2 cores
    resp = call(member, 'POST', '/v2.1/servers', _server('3', 'big'))
    assert resp.status_int == 403
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for cores: Requested 2, but already used 2 of 3 '
        'cores')
    assert call(member, 'POST', '/v2.1/servers',
                _server('1')).status_int == 202          # 1 core
    resp = call(member, 'POST', '/v2.1/servers', _server('1'))
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for cores, instances: Requested 1, 1, but already '
        'used 3, 2 of 3, 2 cores, instances')
    created = db_instances.list_(PROJECT)
    assert len(created) == 2
    assert sum(len(conductor.calls_for(i['uuid'])) for i in created) == 2


def test_create_with_too_many_metadata_items_is_403(app, conductor):
    _put(app, PROJECT, {'metadata_items': 1})
    resp = call(app, 'POST', '/v2.1/servers',
                _server(metadata={'a': '1', 'b': '2'}))
    assert resp.json == {'forbidden': {
        'code': 403,
        'message': 'Maximum number of metadata items exceeds 1'}}
    assert db_instances.list_(PROJECT) == []


def _resize(app, server_id, flavor):
    return call(app, 'POST', '/v2.1/servers/%s/action' % server_id,
                {'resize': {'flavorRef': flavor}})


def test_resize_counts_the_larger_flavor_from_the_request(app, conductor):
    _put(app, PROJECT, {'cores': 3})
    server = make_instance('active', host='h1')            # 1 core
    other = make_instance('active', host='h1')             # 1 core
    resp = _resize(app, server['uuid'], '3')               # 2 cores
    assert resp.status_int == 202, resp.text
    [record] = migration_records.list_(instance_uuid=server['uuid'])
    assert record['status'] == states.MIGRATION_PRE_MIGRATING
    assert record['new_flavor']['vcpus'] == 2
    (call_,) = [c for c in conductor.calls_for(server['uuid'])
                if c[0] == 'start_action']
    assert call_[2]['params']['migration_uuid'] == record['uuid']
    absolute = call(app, 'GET', '/v2.1/limits').json['limits']['absolute']
    assert absolute['totalCoresUsed'] == 3
    # The growth is held: the other server may not grow, nothing new fits.
    resp = _resize(app, other['uuid'], '3')
    assert resp.status_int == 403
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for cores: Requested 1, but already used 3 of 3 '
        'cores')
    assert db_instances.get(other['uuid'])['task_state'] is None
    assert migration_records.list_(instance_uuid=other['uuid']) == []
    assert call(app, 'POST', '/v2.1/servers',
                _server()).status_int == 403


def test_resize_without_conductor_fails_its_migration(app, no_conductor):
    server = make_instance('active', host='h1')
    assert _resize(app, server['uuid'], '3').status_int == 503
    [record] = migration_records.list_(instance_uuid=server['uuid'])
    assert record['status'] == states.MIGRATION_ERROR
    assert db_quotas.usage(PROJECT)['cores'] == 1


def test_restore_checks_the_quota(app, conductor):
    _put(app, PROJECT, {'instances': 2})
    soft = make_instance_in_state(states.SOFT_DELETED, host='h1')
    make_instance('active')
    blocker = make_instance('active')
    # A soft-deleted server does not count (as in Nova): 2 of 2 used.
    assert db_quotas.usage(PROJECT)['instances'] == 2
    restore = {'restore': None}
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % soft['uuid'],
                restore)
    assert resp.status_int == 403
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for instances: Requested 1, but already used 2 of '
        '2 instances')
    assert db_instances.get(soft['uuid'])['task_state'] is None
    db_instances.force_delete(blocker['uuid'], {
        'request_id': 'req-gone', 'user_id': 'u', 'project_id': PROJECT})
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % soft['uuid'],
                restore)
    assert resp.status_int == 202
    assert db_quotas.usage(PROJECT)['instances'] == 2


# -- the race, through the API -----------------------------------------------

@pytest.fixture
def race_app(database, conf, conductor):
    """The app as a member of PROJECT on each database we support."""
    catalog.seed_defaults()
    return persona_app(conf, 'member', PROJECT, ['member'])


def test_100_concurrent_creates_through_the_api(race_app, conductor, conf):
    admin = persona_app(conf, 'admin', 'admin-project', ['admin'])
    assert _put(admin, PROJECT, {'instances': 10}).status_int == 200
    responses, samples = racing.race(
        lambda i: call(race_app, 'POST', '/v2.1/servers',
                       _server(name='racer-%d' % i)),
        100, lambda: db_quotas.usage(PROJECT)['instances'])
    statuses = sorted(r.status_int for r in responses)
    assert statuses == [202] * 10 + [403] * 90, statuses
    for resp in responses:
        if resp.status_int == 403:
            assert resp.json == {'forbidden': {
                'code': 403,
                'message': 'Quota exceeded for instances: Requested 1, '
                           'but already used 10 of 10 instances'}}
    assert max(samples) == 10
    created = db_instances.list_(PROJECT)
    assert len(created) == 10
    assert sum(len(conductor.calls_for(i['uuid'])) for i in created) == 10
    absolute = call(race_app, 'GET', '/v2.1/limits').json['limits'][
        'absolute']
    assert (absolute['totalInstancesUsed'], absolute['totalCoresUsed']) \
        == (10, 10)
    print('API race: %d x 202, %d x 403, usage sampled %d times, at most '
          '%d' % (statuses.count(202), statuses.count(403), len(samples),
                  max(samples)))

