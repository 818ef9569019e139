"""Real clients against the all-in-one over HTTP, unchanged.

* openstackclient with ``auth_type: none`` and the clouds.yaml the README
  documents: server create --wait, list, show, delete --wait, every
  single-host action command, and limits show --absolute.
* our own ``orchestrator`` CLI: create --wait, list, show, delete --wait.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from orchestrator.cmd import client
from orchestrator.conductor import audit
from orchestrator.db import actions

from flows import boot
from flows import catalog

from tests.functional import api_helpers
from tests.waiting import wait_for

CLOUDS_YAML = """\
clouds:
  orchestrator:
    auth_type: none
    auth:
      endpoint: {url}/v2.1
    identity_api_version: 3
    compute_endpoint_override: {url}/v2.1
    image_endpoint_override: {url}/image
"""


def _openstack_bin():
    candidate = os.path.join(os.path.dirname(sys.executable), 'openstack')
    return candidate if os.path.exists(candidate) else shutil.which(
        'openstack')


@pytest.fixture
def openstack(api_system, tmp_path):
    binary = _openstack_bin()
    if binary is None:
        pytest.fail('openstackclient is not installed (test-requirements)')
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(CLOUDS_YAML.format(url=api_system.url))
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds),
               OS_CLOUD='orchestrator', PYTHONWARNINGS='ignore')

    def run(*args):
        result = subprocess.run([binary] + list(args), env=env,
                                capture_output=True, text=True, timeout=180,
                                cwd=str(tmp_path))
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        return result.stdout

    return run


def _create(openstack, api_system, flavor, name):
    """``server create`` without --wait (its poll sleeps 5 s at a time;
    test_openstackclient_create_list_show_delete covers it): the
    status is polled over HTTP. Returns the server's id."""
    server_id = json.loads(openstack(
        'server', 'create', '--flavor', flavor, '--image', 'cirros-0.6.2',
        '-f', 'json', name))['id']
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    return server_id


def test_openstackclient_create_list_show_delete(openstack):
    # NOTE: openstackclient's --wait writes '\rProgress: N' on stdout
    # when it polls a BUILD server with progress (ours reports its image
    # download), before the JSON: only what follows is the document.
    out = openstack('server', 'create', '--flavor', 'm1.small', '--image',
                    'cirros-0.6.2', '--wait', '-f', 'json', 'vm1')
    created = json.loads(out[out.index('{'):])
    assert created['status'] == 'ACTIVE'
    assert created['name'] == 'vm1'

    listed = json.loads(openstack('server', 'list', '-f', 'json'))
    assert [(s['Name'], s['Status']) for s in listed] == [('vm1', 'ACTIVE')]
    assert listed[0]['Image'] == 'cirros-0.6.2'
    assert listed[0]['Flavor'] == 'm1.small'

    shown = json.loads(openstack('server', 'show', '-f', 'json', 'vm1'))
    assert shown['id'] == created['id']
    assert shown['OS-EXT-STS:vm_state'] == 'active'
    assert shown['OS-EXT-STS:task_state'] is None

    # openstackclient's --wait ends when the server is gone (404) or
    # shows DELETED; ours shows DELETED only once it is gone
    # (test_openstackclient_delete_wait_returns_when_the_server_is_gone).
    openstack('server', 'delete', '--wait', 'vm1')
    wait_for(lambda: json.loads(openstack('server', 'list', '-f',
                                          'json')) == [],
             timeout=60, interval=0.5, what='vm1 to leave the list')



def test_openstackclient_creates_several_servers(openstack, api_system):
    """``server create --min 2 --max 3``: three servers of one
    reservation, named web-1..3, each ACTIVE."""
    openstack('server', 'create', '--flavor', 'm1.tiny', '--image',
              'cirros-0.6.2', '--min', '2', '--max', '3', '-f', 'json',
              'web')
    listed = json.loads(openstack('server', 'list', '-f', 'json'))
    assert sorted(s['Name'] for s in listed) == ['web-1', 'web-2', 'web-3']
    for server in listed:
        api_helpers.wait_stable(api_system, server['ID'], 'ACTIVE')


def test_openstackclient_delete_wait_returns_when_the_server_is_gone(
        openstack, api_system):
    """``openstack server delete --wait`` (openstacksdk's wait_for_delete,
    which stops at a 404 or at status DELETED) returns only once the
    server is gone: while the delete runs (the guest's destroy made to
    take 3 s) the server shows what it still is, with task_state
    deleting, never DELETED, so a GET right after the wait is a 404 and
    the list is empty. A second ``server delete`` meanwhile succeeds
    and adds no delete."""
    server_id = _create(openstack, api_system, 'm1.tiny', 'slow-delete')
    api_helpers.inject(api_system, {'destroy': {'delay_s': 3.0}})
    failed = []

    def delete_and_wait():
        try:
            openstack('server', 'delete', '--wait', 'slow-delete')
        except AssertionError as e:
            failed.append(e)

    waiting = threading.Thread(target=delete_and_wait)
    waiting.start()
    seen = set()

    def deleting():
        resp = api_helpers.api(api_system, 'GET', '/v2.1/servers/' +
                               server_id)
        if resp.status_code == 200:
            found = resp.json()['server']
            seen.add((found['status'], found['OS-EXT-STS:task_state']))
        return ('ACTIVE', 'deleting') in seen or not waiting.is_alive()

    wait_for(deleting, timeout=60, interval=0.05, what='the delete to run')
    # Run twice, as tempest's teardowns and scripts do: the second finds
    # the delete running and succeeds (Nova's 204), starting nothing.
    # Sent over HTTP: a second openstackclient process can take longer to
    # start on a loaded machine than the 3 s the delete still runs.
    assert api_helpers.api(api_system, 'DELETE', '/v2.1/servers/' +
                           server_id).status_code == 204
    waiting.join(timeout=180)
    assert not waiting.is_alive() and not failed, failed
    assert ('ACTIVE', 'deleting') in seen, seen
    assert not any(status == 'DELETED' for status, _task in seen), seen
    assert api_helpers.api(api_system, 'GET',
                           '/v2.1/servers/' + server_id).status_code == 404
    assert json.loads(openstack('server', 'list', '-f', 'json')) == []
    deletes = [a for a in actions.list_for_instance(server_id)
               if a['action'] == 'delete']
    assert len(deletes) == 1, deletes
    api_helpers.inject(api_system, {})

def test_openstackclient_single_host_actions(openstack, api_system, conf):
    """Every single-host server command of openstackclient, unchanged;
    the status is checked over HTTP between commands (faster than
    spawning the client to poll, or its --wait, which polls every 5 s;
    --wait is used where it polls something else: a hard reboot's
    HARD_REBOOT, the snapshot's image)."""
    conf.set_override('reclaim_instance_interval_s', 3600)
    server_id = _create(openstack, api_system, 'm1.tiny', 'ops')
    steps = [
        (['server', 'stop', 'ops'], 'SHUTOFF'),
        (['server', 'start', 'ops'], 'ACTIVE'),
        (['server', 'reboot', 'ops'], 'ACTIVE'),
        (['server', 'reboot', '--hard', '--wait', 'ops'], 'ACTIVE'),
        (['server', 'pause', 'ops'], 'PAUSED'),
        (['server', 'unpause', 'ops'], 'ACTIVE'),
        (['server', 'suspend', 'ops'], 'SUSPENDED'),
        (['server', 'resume', 'ops'], 'ACTIVE'),
        (['server', 'rescue', '--password', 'rescue-me', 'ops'], 'RESCUE'),
        (['server', 'unrescue', 'ops'], 'ACTIVE'),
        (['server', 'rebuild', '--image', 'debian-12', 'ops'], 'ACTIVE'),
        (['server', 'image', 'create', '--name', 'ops-snap', '--wait',
          'ops'], 'ACTIVE'),
        (['server', 'delete', 'ops'], 'SOFT_DELETED'),
        (['server', 'restore', 'ops'], 'ACTIVE'),
    ]
    for args, status in steps:
        openstack(*args)
        api_helpers.wait_stable(api_system, server_id, status)
    shown = json.loads(openstack('server', 'show', '-f', 'json', 'ops'))
    assert shown['image'].startswith('debian-12')
    image = json.loads(openstack('image', 'show', '-f', 'json',
                                 'ops-snap'))
    assert image['status'] == 'active'
    # One action per request, one event per step of its flow, in order.
    done = list(reversed(actions.list_for_instance(server_id)))
    assert [a['action'] for a in done] == [
        'create', 'stop', 'start', 'reboot', 'reboot_hard', 'pause',
        'unpause', 'suspend', 'resume', 'rescue', 'unrescue', 'rebuild',
        'createImage', 'softDelete', 'restore']
    flows = dict(catalog.STARTED_ACTION_FLOWS, create=boot)
    for action in done:
        assert action['result'] == 'Success', action
        steps = audit.step_events(flows[action['action']].get_flow())
        events = [e['event'] for e in actions.events_for(action['id'])]
        assert events == steps, action


def test_openstackclient_resize_and_cold_migrate(openstack, api_system):
    """server resize --flavor / resize confirm / resize revert and server
    migrate, unchanged (migrate --host needs microversion 2.56, above
    the 2.47 we serve)."""
    server_id = _create(openstack, api_system, 'm1.tiny', 'mover')
    openstack('server', 'resize', '--flavor', 'm1.small', '--wait',
              'mover')
    api_helpers.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    openstack('server', 'resize', 'revert', 'mover')
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    openstack('server', 'resize', '--flavor', 'm1.small', 'mover')
    api_helpers.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    openstack('server', 'resize', 'confirm', 'mover')
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    shown = json.loads(openstack('server', 'show', '-f', 'json', 'mover'))
    flavor = shown['flavor']
    assert (flavor.get('original_name') if isinstance(flavor, dict)
            else flavor).startswith('m1.small'), flavor
    before = shown['OS-EXT-SRV-ATTR:host']
    openstack('server', 'migrate', 'mover')
    moved = api_helpers.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    assert moved['OS-EXT-SRV-ATTR:host'] != before
    openstack('server', 'resize', 'confirm', 'mover')
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    names = [a['action'] for a in actions.list_for_instance(server_id)]
    assert list(reversed(names)) == [
        'create', 'resize', 'revertResize', 'resize', 'confirmResize',
        'migrate', 'confirmResize']


def _absolute_limits(openstack):
    """``openstack limits show --absolute`` as {name: value}."""
    rows = json.loads(openstack('limits', 'show', '--absolute', '-f',
                                'json'))
    return {row['Name']: row['Value'] for row in rows}


def test_openstackclient_limits_show(openstack, api_system):
    """``openstack limits show --absolute``: the project's limits
    (``[quota]`` defaults) and what its servers use, a resize included
    until it is reverted. (``openstack quota show`` needs the caller's
    project, which noauth does not give: test_keystone_auth.py runs it
    with a Keystone token.)"""
    server_id = _create(openstack, api_system, 'm1.tiny', 'counted')
    absolute = _absolute_limits(openstack)
    assert (absolute['instances'], absolute['total_cores'],
            absolute['total_ram']) == (10, 20, 51200)
    assert (absolute['total_instances_used'], absolute['total_cores_used'],
            absolute['total_ram_used']) == (1, 1, 512)
    openstack('server', 'resize', '--flavor', 'm1.small', 'counted')
    api_helpers.wait_stable(api_system, server_id, 'VERIFY_RESIZE')
    assert _absolute_limits(openstack)['total_ram_used'] == 2048
    openstack('server', 'resize', 'revert', 'counted')
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert _absolute_limits(openstack)['total_ram_used'] == 512


def test_openstackclient_live_migration_abort_and_evacuate(
        openstack, api_system, conf):
    """server migrate --live-migration [--host] --wait (the SDK sends
    microversion 2.30: {"host", "block_migration": "auto"}; --host needs
    2.30), server migration list and abort (2.24), and server
    evacuate [--host] [--password] (--host needs 2.29). Not --wait on
    evacuate: openstackclient 10.5 compares the lowercased status with
    'ACTIVE' and never returns; the status is polled over HTTP."""
    from orchestrator.db import hosts
    from orchestrator.db import migration_records
    from tests.functional import invariants
    conf.set_override('service_down_time_s', 2)
    server_id = _create(openstack, api_system, 'm1.tiny', 'lm')
    source = api_helpers.server(api_system, server_id)[
        'OS-EXT-SRV-ATTR:host']
    openstack('server', 'migrate', '--live-migration', '--wait', 'lm')
    moved = api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert moved['OS-EXT-SRV-ATTR:host'] != source
    target = sorted({c.host for c in api_system.computes}
                    - {moved['OS-EXT-SRV-ATTR:host']})[0]
    openstack('server', 'migrate', '--live-migration', '--host', target,
              'lm')
    moved = api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert moved['OS-EXT-SRV-ATTR:host'] == target
    listed = json.loads(openstack('server', 'migration', 'list',
                                  '--server', 'lm', '-f', 'json'))
    assert [(m['Type'], m['Status']) for m in listed] == [
        ('live-migration', 'completed')] * 2

    # Aborted while the memory is copied: stays where it was. The copy
    # looks for an abort between its 30 rounds of 1 s, so a long copy
    # costs nothing here and leaves a loaded machine time to start
    # openstackclient.
    conf.set_override('live_migration_steps', 30, group='fake_driver')
    api_helpers.inject(api_system, {'live_migration': {'delay_s': 30}})
    openstack('server', 'migrate', '--live-migration', 'lm')
    running = wait_for(lambda: api_helpers.api(
        api_system, 'GET', '/v2.1/servers/%s/migrations' % server_id
    ).json()['migrations'], timeout=30, what='a running migration')[0]
    # NOTE: not "server migration show": openstackclient 10.5 passes the
    # server and migration ids to openstacksdk 4.22 in the wrong order
    # (GET /servers/<migration id>/migrations/<server id>, a 404).
    openstack('server', 'migration', 'abort', 'lm', str(running['id']))
    wait_for(lambda: migration_records.list_(instance_uuid=server_id)[0][
        'status'] == 'cancelled', timeout=30, what='cancelled')
    after = api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == target
    api_helpers.inject(api_system, {})

    # Its host dies: evacuated to the host asked for.
    compute = next(c for c in api_system.computes if c.host == target)
    compute.stop()
    wait_for(lambda: not hosts.is_up(hosts.list_services(
        host=target, binary='orchestrator-compute')[0], 2), timeout=15,
        what='%s down' % target)
    refuge = sorted({c.host for c in api_system.computes} - {target})[0]
    openstack('server', 'evacuate', '--host', refuge, '--password',
              'evacuated-1', 'lm')
    wait_for(lambda: [a for a in actions.list_for_instance(server_id)
                      if a['action'] == 'evacuate' and a['finish_time']],
             timeout=60, what='evacuate to finish')
    after = api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['OS-EXT-SRV-ATTR:host'] == refuge
    compute.start()
    wait_for(lambda: migration_records.list_(instance_uuid=server_id)[0][
        'status'] == 'completed', timeout=60, what='evacuation completed')
    invariants.check_system(api_system)
    names = [a['action'] for a in actions.list_for_instance(server_id)]
    assert list(reversed(names)) == [
        'create', 'live-migration', 'live-migration', 'live-migration',
        'live-migration-abort', 'evacuate']

def test_orchestrator_cli_create_list_show_delete(api_system):
    def run(*args):
        out = io.StringIO()
        code = client.main(['--url', api_system.url] + list(args), out=out)
        return code, out.getvalue()

    code, out = run('server', 'create', 'cli-vm', '--flavor', 'm1.tiny',
                    '--image', 'cirros-0.6.2', '--wait')
    assert code == 0, out
    # Off a terminal the live display is a line per change: the title
    # 'create NAME (ID)', the states seen, then how it ended.
    lines = out.strip().splitlines()
    server_id = lines[0].split('(')[1].rstrip(')')
    assert lines[-2].split()[1] == 'ACTIVE'
    assert lines[-1] == 'create done: ACTIVE'

    code, out = run('server', 'list')
    assert code == 0 and server_id in out and 'ACTIVE' in out

    code, out = run('server', 'show', 'cli-vm')
    assert code == 0 and server_id in out

    code, out = run('server', 'delete', 'cli-vm', '--wait')
    assert code == 0 and out.strip().endswith('deleted')

    code, out = run('server', 'show', server_id)
    assert code == 2  # the API's 404


def test_orchestrator_cli_reports_api_errors(api_system, capsys):
    code = client.main(['--url', api_system.url, 'server', 'create', 'x',
                        '--flavor', 'no-such-flavor', '--image',
                        'cirros-0.6.2'], out=io.StringIO())
    assert code == 2
    assert 'no-such-flavor' in capsys.readouterr().err
