"""orchestrator-manage flows list / show against a real all-in-one's
database: a boot whose rollback failed is listed with its failed step,
and shown step by step."""

import os
import subprocess
import sys

from orchestrator.db import actions
from orchestrator.db import instances

from tests.functional import api_helpers as h
from tests.waiting import wait_for


def _manage(tmp_path, *args):
    db_file = tmp_path / 'state' / 'orchestrator.sqlite'
    config = tmp_path / 'manage.conf'
    config.write_text('[database]\nconnection = sqlite:///%s\n' % db_file)
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    result = subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.manage', '--config-file',
         str(config)] + list(args), capture_output=True, text=True,
        timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_flows_list_and_show_a_boot_whose_rollback_failed(api_system,
                                                          tmp_path):
    # Spawn fails, and so does the destroy its revert calls: the boot's
    # rollback fails, the flow ends in FAILURE, the server in ERROR.
    h.inject(api_system, {'spawn': 'raise', 'destroy': 'raise'})
    resp = h.api(api_system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'broken', 'flavorRef': '1',
        'imageRef': h.api(api_system, 'GET', '/image/v2/images').json()[
            'images'][0]['id'], 'networks': 'auto'}})
    server_id = resp.json()['server']['id']
    h.wait_stable(api_system, server_id, 'ERROR')
    wait_for(lambda: 'FAILURE' in _manage(tmp_path, 'flows', 'list'),
             timeout=30, what='the failed flow to be listed')
    listed = _manage(tmp_path, 'flows', 'list')
    row = [line for line in listed.splitlines() if server_id in line]
    assert len(row) == 1, listed
    assert 'orchestrator-boot-server' in row[0]
    assert 'FAILURE' in row[0]
    flow_id = row[0].split()[0]
    shown = _manage(tmp_path, 'flows', 'show', flow_id[:8])
    assert 'state:         FAILURE' in shown
    assert 'instance:      %s' % server_id in shown
    assert 'SpawnOnHost  [' in shown
    assert 'Injected fault in spawn' in shown
    assert 'Injected fault in destroy' in shown
    # Everything, finished flows included, with --all.
    assert instances.get(server_id)['vm_state'] == 'error'
    assert 'SUCCESS' not in listed


def _boot_failing(system, faults):
    h.inject(system, faults)
    resp = h.api(system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'repairable', 'flavorRef': '1',
        'imageRef': h.api(system, 'GET', '/image/v2/images').json()[
            'images'][0]['id'], 'networks': 'auto'}})
    server_id = resp.json()['server']['id']
    h.wait_stable(system, server_id, 'ERROR')
    return server_id


def _flow_of(tmp_path, server_id, state):
    def find():
        rows = [line.split() for line in _manage(
            tmp_path, 'flows', 'list', '--all').splitlines()
            if server_id in line and ' %s ' % state in line]
        return rows[0][0] if rows else None
    return wait_for(find, timeout=30, what='a %s flow' % state)


def test_flows_revert_finishes_a_failed_rollback(api_system, tmp_path):
    # The stop powers the guest off and then fails; undoing it (power
    # on) fails too: the rollback failed, the flow is in FAILURE and the
    # server in ERROR with its guest off.
    server_id = h.boot(api_system)
    h.inject(api_system, {'power_off': {'fault': 'raise', 'when': 'after'},
                          'power_on': 'raise'})
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'ERROR')
    flow_id = _flow_of(tmp_path, server_id, 'FAILURE')
    assert h.guest(api_system, server_id)[1]['power_state'] == 4
    h.inject(api_system, {})
    out = _manage(tmp_path, 'flows', 'revert', flow_id)
    assert 'ChangePowerOnHost' in out
    _flow_of(tmp_path, server_id, 'REVERTED')
    # Rolled back for real: the guest runs, the server is ACTIVE again.
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert h.guest(api_system, server_id)[1]['power_state'] == 1
    names = [a['action'] for a in actions.list_for_instance(server_id)]
    assert names[:2] == ['repairFlow', 'stop']
    # A flow that is not failed any more is refused, with the reason.
    result = subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.manage', '--config-file',
         str(tmp_path / 'manage.conf'), 'flows', 'revert', flow_id],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 1 and 'REVERTED' in result.stderr, \
        result.stderr


def test_flows_retry_runs_a_reverted_boot_again(api_system, tmp_path):
    server_id = _boot_failing(api_system, {'spawn': 'raise'})
    flow_id = _flow_of(tmp_path, server_id, 'REVERTED')
    h.inject(api_system, {})
    out = _manage(tmp_path, 'flows', 'retry', flow_id)
    assert 'SpawnOnHost' in out
    h.wait_stable(api_system, server_id, 'ACTIVE', timeout=60)
    host, guest = h.guest(api_system, server_id)
    assert host == h.server(api_system, server_id)['OS-EXT-SRV-ATTR:host']
    create = [a for a in actions.list_for_instance(server_id)
              if a['action'] == 'create'][0]
    wait_for(lambda: actions.get(create['id'])['result'] == 'Success',
             timeout=30, what='the create action to end in Success')
