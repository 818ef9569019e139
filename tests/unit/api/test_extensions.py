"""The legacy extension list: Nova's shape, and only features this API
serves."""

import pytest

from orchestrator.api import app as api_app
from orchestrator.api import extensions
from orchestrator.api import server_actions
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import persona_app


def test_every_listed_extension_is_served():
    templates = {route.template for route in api_app.build_router().routes()}
    for extension in extensions.EXTENSIONS:
        if extension.route is not None:
            assert extension.route in templates, extension.alias
        else:
            assert extension.action in server_actions.HANDLERS, \
                extension.alias


def test_list_is_nova_shaped_and_sorted_by_alias(app):
    resp = call(app, 'GET', '/v2.1/extensions')
    body = oracle.check(resp, 'v2_1', 'extensions', 'list_extensions')
    aliases = [e['alias'] for e in body['extensions']]
    assert aliases == sorted(aliases)
    assert len(aliases) == len(set(aliases)) == len(extensions.EXTENSIONS)
    # What tempest's test_extensions asks for.
    assert 'Hosts' in [e['name'] for e in body['extensions']]
    assert body['extensions'][0] == {
        'alias': aliases[0], 'name': body['extensions'][0]['name'],
        'description': body['extensions'][0]['description'],
        'namespace': 'http://docs.openstack.org/compute/ext/fake_xml',
        'updated': '2014-12-03T00:00:00Z', 'links': []}


def test_show_one_and_404_for_an_unknown_alias(app):
    resp = call(app, 'GET', '/v2.1/extensions/os-consoles')
    assert resp.status_int == 200
    listed = call(app, 'GET', '/v2.1/extensions').json['extensions']
    assert resp.json == {'extension': [
        e for e in listed if e['alias'] == 'os-consoles'][0]}
    for alias in ('os-volumes', 'os-floating-ips', 'nothing', 'OS-HOSTS'):
        resp = call(app, 'GET', '/v2.1/extensions/%s' % alias)
        assert resp.status_int == 404, alias
        assert resp.json == {'itemNotFound': {
            'code': 404, 'message': 'The resource could not be found.'}}


@pytest.mark.parametrize('roles', [['reader'], ['member']])
def test_any_authenticated_caller_may_list(db, conf, roles):
    app = persona_app(conf, 'someone', 'beta', roles)
    assert call(app, 'GET', '/v2.1/extensions').status_int == 200
    assert call(app, 'GET', '/v2.1/extensions/os-hosts').status_int == 200
