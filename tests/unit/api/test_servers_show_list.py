"""GET /servers, /servers/detail, /servers/{id}: shapes per microversion
(tempest.lib schemas), status, fault, addresses, host_status, filters,
paging."""


import pytest

from orchestrator import states
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances as db_instances
from tests.unit.api import oracle
from tests.unit.api.conftest import DEBIAN
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

#: (microversion, tempest module) for every shape change we serve.
VERSIONS = [('2.1', 'v2_1'), ('2.3', 'v2_3'), ('2.9', 'v2_9'),
            ('2.16', 'v2_16'), ('2.19', 'v2_19'), ('2.26', 'v2_26'),
            ('2.45', 'v2_45'), ('2.47', 'v2_47')]
NETWORK_INFO = [{'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
                 'ips': [{'addr': '10.0.0.3', 'version': 4,
                          'type': 'fixed'}]}]

#: A well-formed id nothing has (fixed: xdist workers must collect the
#: same parametrized ids).
UNKNOWN_ID = '8a5c4a7e-0000-4000-8000-000000000000'


@pytest.fixture
def servers(app):
    """Servers in several states, one on a host that heartbeats."""
    db_hosts.heartbeat('host1', 'orchestrator-compute')
    made = {
        'building': make_instance(),
        'active': make_instance('active', host='host1',
                                networks=NETWORK_INFO,
                                metadata={'a': 'b'}, description='d'),
        'error': make_instance('error'),
        'deleting': make_instance('active', task_state=states.DELETING,
                                  host='host2'),
    }
    db_instances.add_fault(made['error']['uuid'], 500, 'boom',
                           details='Traceback: ...')
    return made


@pytest.mark.parametrize('version,module', VERSIONS)
def test_show_matches_tempest_for_each_version(app, servers, version,
                                               module):
    for instance in servers.values():
        resp = call(app, 'GET', '/v2.1/servers/' + instance['uuid'],
                    version=version)
        oracle.check(resp, module, 'servers', 'get_server')


@pytest.mark.parametrize('version,module', VERSIONS)
def test_detail_and_index_match_tempest_for_each_version(app, servers,
                                                         version, module):
    resp = call(app, 'GET', '/v2.1/servers/detail', version=version)
    body = oracle.check(resp, module, 'servers', 'list_servers_detail')
    assert len(body['servers']) == 4
    resp = call(app, 'GET', '/v2.1/servers', version=version)
    body = oracle.check(resp, module, 'servers', 'list_servers')
    assert {s['id'] for s in body['servers']} == {
        i['uuid'] for i in servers.values()}


def test_microversion_gated_fields(app, servers):
    uuid_ = servers['active']['uuid']
    old = call(app, 'GET', '/v2.1/servers/' + uuid_).json['server']
    new = call(app, 'GET', '/v2.1/servers/' + uuid_,
               version='2.47').json['server']
    for key in ('locked', 'host_status', 'description', 'tags',
                'OS-EXT-SRV-ATTR:hostname'):
        assert key not in old
    assert old['flavor'] == {'id': '1', 'links': [
        {'rel': 'bookmark', 'href': 'http://localhost/flavors/1'}]}
    assert new['locked'] is False
    assert new['host_status'] == 'UP'
    assert new['description'] == 'd'
    assert new['tags'] == []
    assert new['OS-EXT-SRV-ATTR:reservation_id'] == 'r-1'
    assert new['flavor'] == {'original_name': 'm1.tiny', 'vcpus': 1,
                             'ram': 512, 'disk': 1, 'ephemeral': 0,
                             'swap': 0, 'extra_specs': {}}


def test_status_progress_and_image(app, servers):
    def show(name):
        return call(app, 'GET', '/v2.1/servers/' + servers[name]['uuid'],
                    version='2.47').json['server']
    building = show('building')
    assert building['status'] == 'BUILD' and building['progress'] == 0
    assert building['image']['id'] == servers['building']['image_ref']
    assert show('active')['status'] == 'ACTIVE'
    deleting = show('deleting')
    assert deleting['status'] == 'ACTIVE'
    assert deleting['OS-EXT-STS:task_state'] == 'deleting'
    assert deleting['host_status'] == 'UNKNOWN'
    error = show('error')
    assert error['status'] == 'ERROR'
    assert error['fault']['message'] == 'boom'
    assert error['fault']['details'] == 'Traceback: ...'
    assert 'fault' not in show('active')


def test_host_status_down_after_service_down_time(app, servers, conf):
    import datetime
    from orchestrator.db import models
    from orchestrator.db import session
    with session.writer() as s:
        s.query(models.Service).update({'last_seen_at': models.utcnow()
                                        - datetime.timedelta(hours=1)})
    resp = call(app, 'GET', '/v2.1/servers/' + servers['active']['uuid'],
                version='2.16')
    assert resp.json['server']['host_status'] == 'DOWN'


def test_addresses_from_network_info(app, servers):
    server = call(app, 'GET', '/v2.1/servers/' + servers['active']['uuid']
                  ).json['server']
    assert server['addresses'] == {'private': [{
        'version': 4, 'addr': '10.0.0.3', 'OS-EXT-IPS:type': 'fixed',
        'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'}]}
    building = call(app, 'GET', '/v2.1/servers/' +
                    servers['building']['uuid']).json['server']
    assert building['addresses'] == {}


def test_addresses_accept_nova_shaped_dict():
    from orchestrator.api.views import servers as views
    assert views.addresses({'net1': [
        {'addr': 'fd00::5', 'version': 6, 'mac_addr': 'fa:16:3e:00:00:02'},
        {'addr': 'garbage'}], 'requested': 'auto'}) == {'net1': [
            {'version': 6, 'addr': 'fd00::5', 'OS-EXT-IPS:type': 'fixed',
             'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:02'}]}
    assert views.addresses({'requested': [{'uuid': 'x'}]}) == {}
    assert views.addresses({'requested': 'auto'}) == {}
    assert views.addresses(None) == {}


def test_addresses_from_the_fake_drivers_network_info():
    from orchestrator.api.views import servers as views
    assert views.addresses({
        'network_name': 'private', 'ip_address': '10.86.0.1',
        'ip_version': 4, 'mac_address': 'fa:16:3e:7e:d3:45'}) == {
            'private': [{'version': 4, 'addr': '10.86.0.1',
                         'OS-EXT-IPS:type': 'fixed',
                         'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:7e:d3:45'}]}


def test_booted_without_image_shows_empty_string(app):
    instance = make_instance('active', image_ref=None)
    resp = call(app, 'GET', '/v2.1/servers/' + instance['uuid'])
    assert resp.json['server']['image'] == ''
    oracle.check(resp, 'v2_1', 'servers', 'get_server')


@pytest.mark.parametrize('server_id', [
    'not-a-uuid', UNKNOWN_ID, '1', 'x' * 300])
def test_unknown_server_is_404(app, server_id):
    resp = call(app, 'GET', '/v2.1/servers/' + server_id)
    assert resp.status_int == 404
    assert 'could not be found' in resp.json['itemNotFound']['message']


def test_other_projects_servers_are_hidden_unless_all_tenants(app):
    mine = make_instance('active')
    theirs = make_instance('active', project_id='other')
    ids = {s['id'] for s in call(app, 'GET', '/v2.1/servers').json[
        'servers']}
    assert ids == {mine['uuid']}
    ids = {s['id'] for s in call(app, 'GET', '/v2.1/servers?all_tenants=1'
                                 ).json['servers']}
    assert ids == {mine['uuid'], theirs['uuid']}
    ids = {s['id'] for s in call(app, 'GET', '/v2.1/servers?all_tenants'
                                 ).json['servers']}
    assert ids == {mine['uuid'], theirs['uuid']}


def test_filters(app):
    web1 = make_instance('active', display_name='web-1', host='h1')
    web2 = make_instance('error', display_name='web-2', image_ref=DEBIAN)
    db1 = make_instance(display_name='db-1', flavor_id='2')

    def ids(query):
        resp = call(app, 'GET', '/v2.1/servers/detail?' + query)
        assert resp.status_int == 200, resp.text
        return {s['id'] for s in resp.json['servers']}
    assert ids('name=web') == {web1['uuid'], web2['uuid']}
    assert ids('name=^db') == {db1['uuid']}
    assert ids('name=[') == set()
    assert ids('status=active') == {web1['uuid']}
    assert ids('status=ERROR&status=BUILD') == {web2['uuid'], db1['uuid']}
    assert ids('status=NOSUCH') == set()
    assert ids('host=h1') == {web1['uuid']}
    assert ids('image=' + DEBIAN) == {web2['uuid']}
    assert ids('flavor=2') == {db1['uuid']}
    assert ids('unknown_param=1') == {web1['uuid'], web2['uuid'],
                                      db1['uuid']}


def test_status_deleted_lists_deleted_servers_for_admins(app):
    gone = make_instance('active')
    db_instances.force_delete(gone['uuid'], {'request_id': 'req-x'})
    resp = call(app, 'GET', '/v2.1/servers?status=DELETED')
    assert [s['id'] for s in resp.json['servers']] == [gone['uuid']]
    assert call(app, 'GET', '/v2.1/servers').json['servers'] == []


def test_limit_and_marker_page_newest_first(app):
    made = [make_instance('active', display_name='s%d' % i)
            for i in range(5)]
    newest_first = [i['uuid'] for i in reversed(made)]
    resp = call(app, 'GET', '/v2.1/servers?limit=2')
    body = oracle.check(resp, 'v2_1', 'servers', 'list_servers')
    assert [s['id'] for s in body['servers']] == newest_first[:2]
    next_href = body['servers_links'][0]['href']
    assert body['servers_links'][0]['rel'] == 'next'
    assert 'marker=%s' % newest_first[1] in next_href
    resp = call(app, 'GET', next_href.replace('http://localhost', ''))
    assert [s['id'] for s in resp.json['servers']] == newest_first[2:4]
    resp = call(app, 'GET', '/v2.1/servers?limit=10&marker=%s'
                % newest_first[3])
    assert [s['id'] for s in resp.json['servers']] == newest_first[4:]
    assert 'servers_links' not in resp.json


def test_filtered_paging_skips_non_matching_rows(app):
    wanted = [make_instance('active', display_name='keep') for _ in range(3)]
    for _ in range(3):
        make_instance('active', display_name='drop')
    resp = call(app, 'GET', '/v2.1/servers?name=keep&limit=2')
    first = [s['id'] for s in resp.json['servers']]
    resp = call(app, 'GET', '/v2.1/servers?name=keep&limit=2&marker=' +
                first[-1])
    second = [s['id'] for s in resp.json['servers']]
    assert first + second == [w['uuid'] for w in reversed(wanted)]


def test_max_limit_caps_pages(app, conf):
    conf.set_override('max_limit', 2, group='api')
    for _ in range(3):
        make_instance('active')
    resp = call(app, 'GET', '/v2.1/servers?limit=50')
    assert len(resp.json['servers']) == 2


@pytest.mark.parametrize('query,words', [
    ('limit=abc', 'limit param must be an integer'),
    ('limit=-1', 'limit param must be positive'),
    ('marker=%s' % UNKNOWN_ID, 'not found'),
    ('deleted=maybe', 'boolean is expected'),
    ('all_tenants=perhaps', 'boolean is expected'),
])
def test_bad_list_parameters_are_400(app, query, words):
    resp = call(app, 'GET', '/v2.1/servers?' + query)
    assert resp.status_int == 400, resp.text
    assert words in resp.json['badRequest']['message']
