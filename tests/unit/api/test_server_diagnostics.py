"""GET /servers/{id}/diagnostics: the guest's state read from its host's
agent (a real RPC call over the fake driver), the standard body of 2.48
(tempest.lib's v2_48 schema, but for the driver name it does not list),
admin only, and its 403/404/409/503."""

import copy

import jsonschema
import pytest

from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance

pytestmark = pytest.mark.timeout(60)

IMAGE = {'id': CIRROS, 'name': 'cirros', 'size': 1}
NETWORKS = [{'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
             'ips': [{'addr': '10.0.0.3', 'version': 4, 'type': 'fixed'}]}]


@pytest.fixture
def server(app, compute_agent):
    make_compute_host('h1')
    instance = make_instance('active', host='h1', networks=NETWORKS,
                             config_drive='True')
    compute_agent.spawn(compute_rpcapi.instance_payload(instance), IMAGE)
    return instance


def _v248_schema_with_our_driver():
    """tempest's v2_48 body schema, its driver enum widened by the
    hypervisor type our hosts report (the one field it cannot take)."""
    schema = copy.deepcopy(oracle.schema('v2_48', 'servers',
                                         'show_server_diagnostics'))
    driver = schema['response_body']['properties']['driver']
    driver['enum'] = driver['enum'] + ['fake']
    return schema


def test_standard_body_from_248(app, server, compute_agent, monkeypatch):
    path = '/v2.1/servers/%s/diagnostics' % server['uuid']
    resp = call(app, 'GET', path, version='2.48')
    assert resp.status_int == 200, resp.text
    jsonschema.validate(resp.json,
                        _v248_schema_with_our_driver()['response_body'])
    body = resp.json
    assert (body['state'], body['driver'], body['config_drive']) == (
        'running', 'fake', True)
    assert body['num_cpus'] == server['vcpus'] == len(body['cpu_details'])
    assert body['memory_details'] == {'maximum': server['memory_mb'],
                                      'used': None}
    assert body['num_nics'] == 1
    assert body['nic_details'][0]['mac_address'] == 'fa:16:3e:00:00:01'
    assert body['num_disks'] == len(body['disk_details']) >= 1
    # The state is the host's: a stopped guest is shut down.
    compute_agent.set_power_state(
        compute_rpcapi.instance_payload(server), 'power_off')
    assert call(app, 'GET', path, version='2.48').json['state'] == \
        'shutdown'
    # Before 2.48 Nova's body is a free-form blob.
    oracle.check(call(app, 'GET', path, version='2.47'), 'v2_1', 'servers',
                 'show_server_diagnostics')


def test_admin_only_and_refusals(app, member_app, server, compute_agent,
                                 conf):
    path = '/v2.1/servers/%s/diagnostics'
    assert call(member_app, 'GET', path % server['uuid'],
                version='2.48').status_int == 403
    assert call(app, 'GET', path % 'nope', version='2.48').status_int == 404
    no_host = make_instance('active')
    assert call(app, 'GET', path % no_host['uuid'],
                version='2.48').status_int == 409
    make_compute_host('h-down', up=False)
    down = make_instance('active', host='h-down')
    assert call(app, 'GET', path % down['uuid'],
                version='2.48').status_int == 409
    # On h1 but with no guest there.
    ghost = make_instance(states.ACTIVE, host='h1')
    resp = call(app, 'GET', path % ghost['uuid'], version='2.48')
    assert resp.status_int == 404
    assert 'no guest' in resp.json['itemNotFound']['message']
    # Heartbeats recorded, but no agent answers.
    conf.set_override('compute_rpc_timeout_s', 1)
    compute_rpcapi._CLIENT = (None, None)
    make_compute_host('h-silent')
    silent = make_instance('active', host='h-silent')
    try:
        resp = call(app, 'GET', path % silent['uuid'], version='2.48')
    finally:
        compute_rpcapi._CLIENT = (None, None)
    assert resp.status_int == 503
