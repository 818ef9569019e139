"""The console's flow pages and repair against a running all-in-one: a
boot that failed at spawn on every host (its reschedule retry's attempts
in the tree, the timeline in order), retried from the console; a stop
whose rollback failed, reverted from the console. The server's state is
checked after each repair, and another project never sees the flows."""

import datetime

from orchestrator.db import instances

from tests.functional import api_helpers as h
from tests.unit.api import console_flows
from tests.unit.api.conftest import call
from tests.unit.api.conftest import persona_app
from tests.waiting import wait_for

API = '/console/api'


def _console(system, method, path, **kwargs):
    return h.api(system, method, API + path, **kwargs)


def _flow(system, flow_id):
    resp = _console(system, 'GET', '/flows/' + flow_id)
    assert resp.status_code == 200, resp.text
    return resp.json()['flow']


def _flow_of(system, server_id, state):
    def find():
        rows = _console(system, 'GET', '/flows?state=all&instance='
                        + server_id).json()['flows']
        found = [r for r in rows if r['state'] == state]
        return found[-1]['uuid'] if found else None
    return wait_for(find, timeout=30, what='a %s flow of %s'
                    % (state, server_id))


def _running_row(system, server_id):
    """The listing's row of the server's flow once a conductor runs a
    step of it, else None."""
    for row in _console(system, 'GET', '/flows').json()['flows']:
        if row['instance'] == server_id and row['owner'] and \
                '(RUNNING)' in row['step']:
            return row
    return None


def _live(flow):
    states = {n['state'] for n in console_flows.nodes(flow['tree'])}
    return not flow['final'] and bool(states & {'running', 'reverting'})


def _wait_job_gone(system, flow_id):
    wait_for(lambda: _flow(system, flow_id)['job'] is None, timeout=30,
             what='the job of flow %s to leave the board' % flow_id)


def _times(timeline):
    return [datetime.datetime.strptime(e['time'], '%Y-%m-%dT%H:%M:%S.%fZ')
            for e in timeline]


def _check_failed_boot(system, flow_id, server_id):
    flow = _flow(system, flow_id)
    assert (flow['state'], flow['final'], flow['instance']) == (
        'REVERTED', True, server_id)
    nodes = {n['name']: n for n in console_flows.nodes(flow['tree'])}
    schedule = nodes['ScheduleInstance']
    assert schedule['kind'] == 'retry'
    # Placed on each of the three hosts, then a fourth run found no
    # attempt left (NoValidHost) and gave up.
    assert (schedule['attempts'], schedule['state']) == (4, 'reverted')
    assert schedule['failure'].startswith('No valid host was found.')
    # The host steps ran three times; the fourth attempt never came, so
    # the logbook has them reset for it (pending), to revert.
    spawn = nodes['SpawnOnHost']
    assert (spawn['attempts'], spawn['state'], spawn['intention']) == (
        3, 'pending', 'revert')
    assert spawn['failure'] == 'Injected fault in spawn on compute-3'
    assert nodes['BuildToErrorOnRevert']['state'] == 'reverted'
    assert (nodes['MarkActive']['state'],
            nodes['MarkActive']['attempts']) == ('pending', 0)
    timeline = flow['timeline']
    assert _times(timeline) == sorted(_times(timeline))
    whats = [(e['step'], e['what']) for e in timeline]
    assert whats[0] == (None, 'action create started')
    assert ('SpawnOnHost', 'run started (attempt 3)') in whats
    assert whats.index(('SpawnOnHost', 'run started')) < whats.index(
        ('SpawnOnHost', 'run started (attempt 2)'))
    assert whats[-1] == (None, 'action create finished')


def test_console_retry_and_revert(api_system, conf):
    # A boot whose spawn fails on every host: rescheduled twice, then
    # rolled back.
    h.inject(api_system, {'spawn': {'fault': 'raise', 'delay_s': 1}})
    image = h.api(api_system, 'GET', '/image/v2/images').json()['images'][0]
    resp = h.api(api_system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'console-boot', 'flavorRef': '1', 'imageRef': image['id'],
        'networks': 'auto'}})
    server_id = resp.json()['server']['id']
    # In flight: its conductor owns the job, under a lease, at a step.
    row = wait_for(lambda: _running_row(api_system, server_id), timeout=30,
                   what='the boot in flight with its owner')
    assert (row['owner'], row['instance_name']) == ('allinone',
                                                    'console-boot')
    assert row['lease_expires'].endswith('Z') and row['step']
    # Its page shows it live: not final, a step running or reverting.
    wait_for(lambda: _live(_flow(api_system, row['uuid'])), timeout=30,
             what='the flow page of the boot in flight')
    h.wait_stable(api_system, server_id, 'ERROR')
    flow_id = _flow_of(api_system, server_id, 'REVERTED')
    _check_failed_boot(api_system, flow_id, server_id)
    page = _console(api_system, 'GET', '/servers/' + server_id).json()
    assert page['actions'][-1]['flow_uuid'] == flow_id
    assert page['server']['fault']['message']
    # Another project's reader finds neither the flow nor the server.
    other = persona_app(conf, 'beta-reader', 'beta', ['reader'])
    assert call(other, 'GET', API + '/flows/' + flow_id).status_int == 404
    assert call(other, 'GET', API + '/flows?state=all').json == {
        'flows': []}
    # Retried from the console, hosts healthy again: the boot finishes.
    # (Once its job left the board: a conductor consumes the job of a
    # reverted flow at its next look; until then a repair is refused.)
    _wait_job_gone(api_system, flow_id)
    h.inject(api_system, {})
    assert _console(api_system, 'POST', '/flows/%s/retry' % flow_id,
                    json={}).status_code == 400
    resp = _console(api_system, 'POST', '/flows/%s/retry' % flow_id,
                    json={'confirm': True})
    assert resp.status_code == 202, resp.text
    assert 'SpawnOnHost' in resp.json()['flow']['steps']
    h.wait_stable(api_system, server_id, 'ACTIVE', timeout=60)
    wait_for(lambda: _flow(api_system, flow_id)['state'] == 'SUCCESS',
             timeout=30, what='the retried flow to succeed')
    assert instances.get(server_id)['vm_state'] == 'active'
    tree = _flow(api_system, flow_id)['tree']
    nodes = {n['name']: n for n in console_flows.nodes(tree)}
    assert nodes['MarkActive']['state'] == 'success'

    # A stop whose rollback fails (power off, then power on refused):
    # the flow is in FAILURE, the server in ERROR.
    h.inject(api_system, {'power_off': {'fault': 'raise', 'when': 'after'},
                          'power_on': 'raise'})
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'ERROR')
    stop_flow = _flow_of(api_system, server_id, 'FAILURE')
    listed = _console(api_system, 'GET', '/flows').json()['flows']
    assert [r['uuid'] for r in listed] == [stop_flow]
    assert 'FAILURE' in listed[0]['step'] or 'REVERT_FAILURE' in \
        listed[0]['step']
    # A revert repairs a failed rollback: asked of the boot flow, which
    # succeeded, it is a 409 with the reason.
    refused = _console(api_system, 'POST', '/flows/%s/revert' % flow_id,
                       json={'confirm': True})
    assert refused.status_code == 409
    assert 'SUCCESS' in refused.json()['conflictingRequest']['message']
    h.inject(api_system, {})
    _wait_job_gone(api_system, stop_flow)
    resp = _console(api_system, 'POST', '/flows/%s/revert' % stop_flow,
                    json={'confirm': True})
    assert resp.status_code == 202, resp.text
    h.wait_stable(api_system, server_id, 'ACTIVE')
    wait_for(lambda: _flow(api_system, stop_flow)['state'] == 'REVERTED',
             timeout=30, what='the reverted stop flow')
    assert h.guest(api_system, server_id)[1]['power_state'] == 1
    actions = _console(api_system, 'GET', '/servers/' + server_id).json()[
        'actions']
    assert [a['action'] for a in actions][:2] == ['repairFlow', 'stop']
