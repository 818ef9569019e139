"""orchestrator-manage flows list / show against a real all-in-one's
database: a boot whose rollback failed is listed with its failed step,
and shown step by step."""

import os
import subprocess
import sys

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
