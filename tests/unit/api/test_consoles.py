"""A server's consoles: os-getConsoleOutput read from the host's agent
(a real RPC call to the compute manager over the fake driver), and the
remote consoles this deployment cannot serve (400 as Nova's unavailable
console type, never 500)."""

import pytest

from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import instances as db_instances
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state

pytestmark = pytest.mark.timeout(60)

IMAGE = {'id': CIRROS, 'name': 'cirros', 'size': 1}


@pytest.fixture
def server(app, compute_agent):
    """An active server on h1 whose guest runs on h1's agent."""
    make_compute_host('h1')
    instance = make_instance('active', host='h1')
    compute_agent.spawn(compute_rpcapi.instance_payload(instance), IMAGE)
    return instance


def _output(app, server_id, value, version=None):
    return call(app, 'POST', '/v2.1/servers/%s/action' % server_id,
                {'os-getConsoleOutput': value}, version=version)


def test_console_output_per_tempest(app, server, compute_agent):
    resp = _output(app, server['uuid'], {'length': 3})
    output = oracle.check(resp, 'v2_1', 'servers',
                          'get_console_output')['output']
    # tempest's _get_output: three lines are two newlines.
    assert len(output.split('\n')) == 3
    assert output.endswith('login: ')
    everything = _output(app, server['uuid'], {}).json['output']
    assert 'Booting from image %s' % CIRROS in everything
    assert len(everything.split('\n')) > 3
    for value in ({'length': -1}, {'length': None}):
        assert _output(app, server['uuid'], value).json['output'] == \
            everything
    assert _output(app, server['uuid'], {'length': '2'}).json[
        'output'].split('\n') == everything.split('\n')[-2:]
    assert _output(app, server['uuid'], {'length': 0}).json['output'] == ''


def test_a_stopped_server_shows_its_power_down(app, server, compute_agent):
    compute_agent.set_power_state(
        compute_rpcapi.instance_payload(server), 'power_off')
    resp = _output(app, server['uuid'], {'length': 1})
    assert resp.status_int == 200
    assert resp.json['output'].endswith('reboot: Power down')


@pytest.mark.parametrize('value', [
    {'length': -2}, {'length': 'abc'}, {'length': 1.5}, {'length': '-5'},
    {'lines': 3}, None, [], 'x'])
def test_bad_lengths_are_400(app, server, value):
    resp = _output(app, server['uuid'], value)
    assert resp.status_int == 400, resp.body
    assert 'badRequest' in resp.json


def test_conflicts_and_not_found(app, compute_agent):
    make_compute_host('h1')
    no_host = make_instance('error')
    resp = _output(app, no_host['uuid'], {})
    assert resp.status_int == 409
    assert 'has no host' in resp.text
    deleting = make_instance_in_state(states.ACTIVE, states.DELETING,
                                      host='h1')
    resp = _output(app, deleting['uuid'], {})
    assert resp.status_int == 409
    assert 'task_state deleting' in resp.text
    no_guest = make_instance('active', host='h1')
    resp = _output(app, no_guest['uuid'], {})
    assert resp.status_int == 404
    assert 'does not have a console' in resp.text
    resp = _output(app, '00000000-0000-0000-0000-000000000000', {})
    assert resp.status_int == 404


def test_a_host_down_is_409_and_a_silent_one_503(app, conf, memory_rpc):
    make_compute_host('h-down', up=False)
    down = make_instance('active', host='h-down')
    resp = _output(app, down['uuid'], {})
    assert resp.status_int == 409
    assert 'h-down is unavailable' in resp.text
    # Heartbeats recorded, but no agent answers.
    conf.set_override('compute_rpc_timeout_s', 1)
    compute_rpcapi._CLIENT = (None, None)
    make_compute_host('h-silent')
    silent = make_instance('active', host='h-silent')
    try:
        resp = _output(app, silent['uuid'], {})
    finally:
        compute_rpcapi._CLIENT = (None, None)
    assert resp.status_int == 503
    assert 'h-silent did not answer' in resp.text


def test_members_read_their_locked_servers_console_others_get_404(
        member_app, other_member_app, server):
    db_instances.update_fields(server['uuid'], {'locked': True})
    resp = _output(member_app, server['uuid'], {'length': 1})
    assert resp.status_int == 200
    resp = _output(other_member_app, server['uuid'], {'length': 1})
    assert resp.status_int == 404


def _remote(app, server_id, protocol, console_type, version):
    return call(app, 'POST', '/v2.1/servers/%s/remote-consoles' % server_id,
                {'remote_console': {'protocol': protocol,
                                    'type': console_type}},
                version=version)


@pytest.mark.parametrize('protocol,console_type,version,status,message', [
    ('vnc', 'novnc', '2.6', 400, 'Unavailable console type novnc.'),
    ('spice', 'spice-html5', '2.6', 400, 'Unavailable console type'),
    ('serial', 'serial', '2.79', 400, 'Unavailable console type serial.'),
    ('mks', 'webmks', '2.8', 400, 'Unavailable console type webmks.'),
    ('mks', 'webmks', '2.6', 400, "'webmks' is not one of"),
    ('vnc', 'serial', '2.6', 400, 'Invalid console type serial'),
    ('ssh', 'novnc', '2.6', 400, 'protocol'),
    ('vnc', 'novnc', '2.5', 404, 'could not be found'),
])
def test_remote_consoles(app, server, protocol, console_type, version,
                         status, message):
    resp = _remote(app, server['uuid'], protocol, console_type, version)
    assert resp.status_int == status, resp.body
    assert message in resp.text


def test_remote_console_of_a_server_without_host_is_409(app, member_app,
                                                         other_member_app):
    instance = make_instance('error')
    resp = _remote(app, instance['uuid'], 'vnc', 'novnc', '2.6')
    assert resp.status_int == 409
    resp = _remote(other_member_app, instance['uuid'], 'vnc', 'novnc', '2.6')
    assert resp.status_int == 404


@pytest.mark.parametrize('key,console_type', [
    ('os-getVNCConsole', 'novnc'), ('os-getSPICEConsole', 'spice-html5'),
    ('os-getRDPConsole', 'rdp-html5'), ('os-getSerialConsole', 'serial')])
def test_legacy_console_actions(app, server, key, console_type):
    path = '/v2.1/servers/%s/action' % server['uuid']
    resp = call(app, 'POST', path, {key: {'type': console_type}})
    assert resp.status_int == 400
    assert 'Unavailable console type %s.' % console_type in resp.text
    resp = call(app, 'POST', path, {key: {'type': 'other'}})
    assert resp.status_int == 400
    assert "'type'" in resp.text or 'type' in resp.json['badRequest'][
        'message']
    resp = call(app, 'POST', path, {key: {'type': console_type}},
                version='2.6')
    assert resp.status_int == 400
    assert 'Unsupported action: %s' % key in resp.text
