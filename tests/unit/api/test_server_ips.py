"""GET /servers/{id}/ips and /ips/{network_label}: a server's addresses
by network as Nova shows them (tempest.lib's schemas), 404 for a network
it is not on and for another project's server."""

from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

NETWORKS = [
    {'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
     'ips': [{'addr': '10.0.0.3', 'version': 4, 'type': 'fixed'},
             {'addr': 'fd00::3', 'version': 6, 'type': 'fixed'}]},
    {'network': 'public', 'mac_addr': 'fa:16:3e:00:00:02',
     'ips': [{'addr': '172.24.4.9', 'version': 4, 'type': 'fixed'}]}]


def test_addresses_by_network_per_tempest(app):
    server = make_instance('active', networks=NETWORKS)['uuid']
    body = oracle.check(call(app, 'GET', '/v2.1/servers/%s/ips' % server),
                        'v2_1', 'servers', 'list_addresses')
    assert body == {'addresses': {
        'private': [{'version': 4, 'addr': '10.0.0.3'},
                    {'version': 6, 'addr': 'fd00::3'}],
        'public': [{'version': 4, 'addr': '172.24.4.9'}]}}
    body = oracle.check(
        call(app, 'GET', '/v2.1/servers/%s/ips/public' % server),
        'v2_1', 'servers', 'list_addresses_by_network')
    assert body == {'public': [{'version': 4, 'addr': '172.24.4.9'}]}


def test_network_the_server_is_not_on_is_404(app):
    server = make_instance('active', networks=NETWORKS)['uuid']
    resp = call(app, 'GET', '/v2.1/servers/%s/ips/other' % server)
    assert resp.status_int == 404
    assert resp.json['itemNotFound']['message'] == (
        'Instance is not a member of specified network')
    bare = make_instance('active')['uuid']
    assert call(app, 'GET', '/v2.1/servers/%s/ips' % bare).json == {
        'addresses': {}}


def test_another_projects_server_is_404(other_member_app, db):
    server = make_instance('active', networks=NETWORKS)['uuid']
    for path in ('/ips', '/ips/private'):
        resp = call(other_member_app, 'GET',
                    '/v2.1/servers/%s%s' % (server, path))
        assert resp.status_int == 404
