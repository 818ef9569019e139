"""os-server-groups: create, list, show, delete in Nova's shapes at each
microversion (tempest.lib's schemas), validation, quota and isolation;
booting into a group with the ``group`` scheduler hint; the 2.71
``server_groups`` of a server."""

import pytest

from orchestrator.db import allocations
from orchestrator.db import server_groups as db_groups
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host

GROUPS = '/v2.1/os-server-groups'


def _create(app, version=None, name='g1', **group):
    if not group:
        group = {'policies': ['anti-affinity']}
    return call(app, 'POST', GROUPS, {'server_group': dict(name=name,
                                                           **group)},
                version=version)


def _boot(app, group_id=None, version=None, hint_key='os:scheduler_hints'):
    body = {'server': {'name': 'vm', 'imageRef': CIRROS, 'flavorRef': '1'}}
    if group_id is not None:
        body[hint_key] = {'group': group_id}
    return call(app, 'POST', '/v2.1/servers', body, version=version)


def test_create_list_show_delete_at_21(app):
    body = oracle.check(_create(app), 'v2_1', 'server_groups',
                        'create_show_server_group')
    group = body['server_group']
    assert (group['name'], group['policies'], group['members'],
            group['metadata']) == ('g1', ['anti-affinity'], [], {})
    assert 'project_id' not in group
    listed = oracle.check(call(app, 'GET', GROUPS), 'v2_1', 'server_groups',
                          'list_server_groups')
    assert [g['id'] for g in listed['server_groups']] == [group['id']]
    shown = oracle.check(call(app, 'GET', GROUPS + '/' + group['id']),
                         'v2_1', 'server_groups', 'create_show_server_group')
    assert shown['server_group'] == group
    oracle.check(call(app, 'DELETE', GROUPS + '/' + group['id']), 'v2_1',
                 'server_groups', 'delete_server_group')
    assert call(app, 'GET', GROUPS + '/' + group['id']).status_int == 404
    assert call(app, 'DELETE', GROUPS + '/' + group['id']).status_int == 404


def test_213_shows_project_and_user(app):
    body = oracle.check(_create(app, version='2.13'), 'v2_13',
                        'server_groups', 'create_show_server_group')
    assert body['server_group']['project_id'] == 'default'
    assert body['server_group']['user_id'] == 'admin'
    oracle.check(call(app, 'GET', GROUPS, version='2.13'), 'v2_13',
                 'server_groups', 'list_server_groups')


@pytest.mark.parametrize('policy', ['soft-affinity', 'soft-anti-affinity'])
def test_soft_policies_from_215(app, policy):
    assert _create(app, version='2.14',
                   policies=[policy]).status_int == 400
    resp = _create(app, version='2.15', policies=[policy])
    assert resp.status_int == 200
    assert resp.json['server_group']['policies'] == [policy]


def test_264_policy_and_rules(app):
    resp = _create(app, version='2.64', policy='anti-affinity',
                   rules={'max_server_per_host': 2})
    body = oracle.check(resp, 'v2_64', 'server_groups',
                        'create_show_server_group')
    group = body['server_group']
    assert (group['policy'], group['rules']) == (
        'anti-affinity', {'max_server_per_host': 2})
    assert 'policies' not in group and 'metadata' not in group
    assert db_groups.get(group['id'])['rules'] == {'max_server_per_host': 2}
    oracle.check(call(app, 'GET', GROUPS, version='2.64'), 'v2_64',
                 'server_groups', 'list_server_groups')
    # Older clients see the same group in their shape.
    old = call(app, 'GET', GROUPS + '/' + group['id'], version='2.63')
    assert old.json['server_group']['policies'] == ['anti-affinity']


@pytest.mark.parametrize('version,group,message', [
    ('2.1', {'policies': ['anti-affinity', 'affinity']}, None),
    ('2.1', {'policies': []}, None),
    ('2.1', {'policies': ['other']}, None),
    ('2.1', {'policy': 'affinity'}, None),
    ('2.64', {'policies': ['affinity']}, None),
    ('2.64', {'policy': 'affinity', 'rules': {'max_server_per_host': 2}},
     'Only anti-affinity policy supports rules.'),
    ('2.64', {'policy': 'anti-affinity',
              'rules': {'max_server_per_host': 0}}, None),
    ('2.64', {'policy': 'anti-affinity',
              'rules': {'max_server_per_host': '0'}},
     'max_server_per_host must be a positive integer'),
    ('2.64', {'policy': 'anti-affinity', 'rules': {'other': 1}}, None),
])
def test_bad_creates_are_400(app, version, group, message):
    resp = _create(app, version=version, **group)
    assert resp.status_int == 400, resp.text
    if message:
        assert message in resp.json['badRequest']['message']
    assert db_groups.list_() == []


@pytest.mark.parametrize('name', ['', ' padded ', 'x' * 256])
def test_bad_names_are_400(app, name):
    assert _create(app, name=name).status_int == 400


def test_quota_of_server_groups_is_403(app, conf):
    conf.set_override('server_groups', 1, group='quota')
    assert _create(app).status_int == 200
    resp = _create(app, name='g2')
    assert resp.status_int == 403
    assert 'too many server groups' in resp.json['forbidden']['message']
    absolute = call(app, 'GET', '/v2.1/limits').json['limits']['absolute']
    assert (absolute['maxServerGroups'],
            absolute['totalServerGroupsUsed']) == (1, 1)


def test_other_projects_groups_are_404_and_listed_to_admins_only(
        app, member_app, other_member_app):
    mine = _create(member_app).json['server_group']['id']
    theirs = _create(other_member_app, name='g2').json['server_group']['id']
    assert call(member_app, 'GET', GROUPS + '/' + theirs).status_int == 404
    assert call(member_app, 'DELETE',
                GROUPS + '/' + theirs).status_int == 404
    listed = call(member_app, 'GET', GROUPS + '?all_projects=True').json
    assert [g['id'] for g in listed['server_groups']] == [mine]
    listed = call(app, 'GET', GROUPS + '?all_projects=True').json
    assert {g['id'] for g in listed['server_groups']} == {mine, theirs}
    assert call(app, 'GET', GROUPS).json['server_groups'][0]['id'] == mine
    assert call(app, 'GET', GROUPS + '/' + theirs).status_int == 200
    assert call(app, 'DELETE', GROUPS + '/' + theirs).status_int == 204


def test_list_paging(app):
    ids = [_create(app, name='g%d' % i).json['server_group']['id']
           for i in range(4)]
    page = call(app, 'GET', GROUPS + '?limit=2&offset=1').json
    assert [g['id'] for g in page['server_groups']] == ids[1:3]
    assert call(app, 'GET', GROUPS + '?limit=-1').status_int == 400
    assert call(app, 'GET', GROUPS + '?offset=x').status_int == 400


@pytest.mark.parametrize('hint_key', ['os:scheduler_hints',
                                      'OS-SCH-HNT:scheduler_hints'])
def test_boot_into_a_group_makes_a_member(app, conductor,
                                          hint_key):
    group = _create(app).json['server_group']['id']
    resp = _boot(app, group, hint_key=hint_key)
    assert resp.status_int == 202, resp.text
    server_id = resp.json['server']['id']
    shown = call(app, 'GET', GROUPS + '/' + group).json['server_group']
    assert shown['members'] == [server_id]
    server = call(app, 'GET', '/v2.1/servers/' + server_id,
                  version='2.71').json['server']
    assert server['server_groups'] == [group]
    before = call(app, 'GET', '/v2.1/servers/' + server_id,
                  version='2.70').json['server']
    assert 'server_groups' not in before
    listed = call(app, 'GET', '/v2.1/servers/detail',
                  version='2.71').json['servers']
    assert 'server_groups' not in listed[0]
    updated = call(app, 'PUT', '/v2.1/servers/' + server_id,
                   {'server': {'name': 'renamed'}}, version='2.71')
    assert updated.json['server']['server_groups'] == [group]
    # A group with members may be deleted (Nova allows it).
    assert call(app, 'DELETE', GROUPS + '/' + group).status_int == 204
    server = call(app, 'GET', '/v2.1/servers/' + server_id,
                  version='2.71').json['server']
    assert server['server_groups'] == []


def test_boot_with_an_unknown_or_foreign_group_is_400(
        app, member_app, other_member_app, conductor):
    theirs = _create(other_member_app).json['server_group']['id']
    for group in (theirs, '8d2d2f0e-3c4b-4e5f-9a6b-7c8d9e0f1a2b'):
        resp = _boot(member_app, group)
        assert resp.status_int == 400, resp.text
        assert 'could not be found' in resp.json['badRequest']['message']
    assert _boot(member_app, 42).status_int == 400
    assert call(member_app, 'GET', '/v2.1/servers').json['servers'] == []


def test_member_quota_is_403_and_inserts_nothing(app, conf, conductor):
    conf.set_override('server_group_members', 1, group='quota')
    group = _create(app).json['server_group']['id']
    assert _boot(app, group).status_int == 202
    resp = _boot(app, group)
    assert resp.status_int == 403
    assert 'too many servers in group' in resp.json['forbidden']['message']
    assert len(call(app, 'GET', '/v2.1/servers').json['servers']) == 1


def test_multiple_create_into_a_group(app, conductor):
    """min_count servers into an anti-affinity group: each claimed on a
    host of its own in the create's transaction; more than the hosts is
    refused (409) with nothing made."""
    for host in ('h1', 'h2', 'h3'):
        make_compute_host(host)
    group = _create(app).json['server_group']['id']
    body = {'server': {'name': 'vm', 'imageRef': CIRROS, 'flavorRef': '1',
                       'min_count': 4},
            'os:scheduler_hints': {'group': group}}
    resp = call(app, 'POST', '/v2.1/servers', body)
    assert resp.status_int == 409, resp.text
    assert resp.json['conflictingRequest']['message'] == (
        'No valid host was found for 4 servers (min_count): 3 passing '
        "host(s) cannot take all of them: 3 refused by the server group's "
        'anti-affinity policy. Nothing was created.')
    assert call(app, 'GET', GROUPS + '/' + group).json[
        'server_group']['members'] == []
    assert allocations.list_all() == []
    body['server']['min_count'] = 3
    resp = call(app, 'POST', '/v2.1/servers', body)
    assert resp.status_int == 202, resp.text
    members = call(app, 'GET', GROUPS + '/' + group).json[
        'server_group']['members']
    assert len(members) == 3
    assert sorted(a['host'] for a in allocations.list_all()) == [
        'h1', 'h2', 'h3']
