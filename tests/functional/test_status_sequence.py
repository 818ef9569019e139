"""What a client polling over HTTP sees while a server boots and is
deleted, and while the actions that keep its vm_state run.

Boot: only BUILD, then ACTIVE (no momentary SHUTOFF or anything else), with
the image download's progress rising in between. Delete: task_state
``deleting`` shown with the status of what the server still is (ACTIVE),
never DELETED before it is gone (the clients' waits stop at DELETED) nor
BUILD, then 404.
"""

import threading
import time

import requests

from orchestrator.compute.drivers import fake_faults

from tests.functional import api_helpers as h
from tests.waiting import wait_for

HEADERS = {'OpenStack-API-Version': 'compute 2.47'}


def _inject(system, faults):
    for compute in system.computes:
        fake_faults.write_runtime_faults(compute.driver.state_dir,
                                         compute.host, faults)


class Poller(threading.Thread):
    """Polls one server as fast as it can and records what it sees."""

    def __init__(self, url, server_id):
        super().__init__(daemon=True)
        self.url = '%s/v2.1/servers/%s' % (url, server_id)
        self.seen = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            resp = requests.get(self.url, headers=HEADERS, timeout=10)
            if resp.status_code == 404:
                self.seen.append(('404', None, None))
                return
            server = resp.json()['server']
            self.seen.append((server['status'],
                              server['OS-EXT-STS:task_state'],
                              server.get('progress')))
            time.sleep(0.02)

    def statuses(self):
        """The distinct statuses in the order they were first seen."""
        out = []
        for status, _task, _progress in self.seen:
            if not out or out[-1] != status:
                out.append(status)
        return out


def test_boot_shows_build_then_active_and_delete_never_build(api_system):
    _inject(api_system, {'fetch_image': {'delay_s': 1.2},
                         'destroy': {'delay_s': 1.0}})
    flavor = requests.get(api_system.url + '/v2.1/flavors').json()[
        'flavors'][0]
    image = requests.get(api_system.url + '/image/v2/images').json()[
        'images'][0]
    resp = requests.post(api_system.url + '/v2.1/servers', headers=HEADERS,
                         json={'server': {'name': 'seq', 'networks': 'auto',
                                          'flavorRef': flavor['id'],
                                          'imageRef': image['id']}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']

    boot = Poller(api_system.url, server_id)
    boot.start()
    wait_for(lambda: boot.seen and boot.seen[-1][0] == 'ACTIVE',
             timeout=60, what='ACTIVE')
    boot.done.set()
    boot.join()
    assert boot.statuses() == ['BUILD', 'ACTIVE'], boot.seen
    build_tasks = {task for status, task, _ in boot.seen
                   if status == 'BUILD'}
    assert build_tasks <= {'scheduling', 'networking',
                           'block_device_mapping', 'spawning'}
    assert 'spawning' in build_tasks
    # The download reported progress while it ran (not only 0 and 100).
    progress = [p for status, task, p in boot.seen if task == 'spawning']
    assert any(0 < p < 100 for p in progress), progress

    resp = requests.delete(api_system.url + '/v2.1/servers/' + server_id,
                           headers=HEADERS)
    assert resp.status_code == 204
    delete = Poller(api_system.url, server_id)
    delete.start()
    delete.join(60)
    assert delete.seen[-1][0] == '404', delete.seen
    shown = [(status, task) for status, task, _ in delete.seen[:-1]]
    assert shown, 'the delete was never observed in progress'
    assert all(status == 'ACTIVE' and task == 'deleting'
               for status, task in shown), shown


def _backups(system, server_id):
    """Ids of the server's backups, as the image API lists them."""
    images = requests.get(system.url + '/image/v2/images',
                          headers=HEADERS).json()['images']
    return sorted(i['id'] for i in images
                  if i.get('image_type') == 'backup'
                  and i.get('instance_uuid') == server_id)


def _action_finished(system, server_id, name):
    actions = h.api(system, 'GET', '/v2.1/servers/%s/os-instance-actions'
                    % server_id).json()['instanceActions']
    request_id = next(a['request_id'] for a in actions if a['action'] == name)
    found = h.api(system, 'GET', '/v2.1/servers/%s/os-instance-actions/%s'
                  % (server_id, request_id)).json()['instanceAction']
    return bool(found['events']) and all(
        e['finish_time'] for e in found['events'])


def test_password_crash_dump_and_backup_show_their_tasks_then_active(
        api_system):
    """changePassword: PASSWORD (updating_password), then ACTIVE;
    trigger_crash_dump: ACTIVE, no task_state shown (as Nova); createBackup:
    ACTIVE throughout with its task_states, then no task; each recorded
    under Nova's action name."""
    server_id = h.boot(api_system, 'seq-guest')
    _inject(api_system, {'set_admin_password': {'delay_s': 0.5},
                         'trigger_crash_dump': {'delay_s': 0.5},
                         'upload_snapshot': {'delay_s': 0.5}})

    h.act(api_system, server_id, {'changePassword': {'adminPass': 's3q'}})
    assert h.status_pairs_until(api_system, server_id, 'ACTIVE') == [
        ('PASSWORD', 'updating_password'), ('ACTIVE', None)]

    resp = h.api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                 json={'trigger_crash_dump': None},
                 headers={'OpenStack-API-Version': 'compute 2.17'})
    assert resp.status_code == 202, resp.text
    # Nova shows no task_state for it (ours holds the claim unseen).
    seen = []
    wait_for(lambda: seen.append(h.server(api_system, server_id)) or (
        h.guest(api_system, server_id)[1].get('crash_dumps') == 1
        and _action_finished(api_system, server_id, 'trigger_crash_dump')),
        timeout=30, interval=0.02, what='the crash dump')
    assert {(found['status'], found['OS-EXT-STS:task_state'])
            for found in seen} == {('ACTIVE', None)}

    made = []
    for _ in range(2):
        resp = h.act(api_system, server_id, {'createBackup': {
            'name': 'seq-backup', 'backup_type': 'daily', 'rotation': 1}})
        made.append(resp.json()['image_id'])
        pairs = h.status_pairs_until(api_system, server_id, 'ACTIVE')
        assert {status for status, _task in pairs} == {'ACTIVE'}, pairs
        assert pairs[0] == ('ACTIVE', 'image_backup'), pairs
        assert {task for _status, task in pairs} <= {
            'image_backup', 'image_snapshot', 'image_uploading', None}
        assert 'image_uploading' in {task for _status, task in pairs}
    # The second backup's rotation (1) took the first one away.
    wait_for(lambda: _backups(api_system, server_id) == [made[1]],
             timeout=30, what='rotation')

    actions = h.api(api_system, 'GET', '/v2.1/servers/%s/os-instance-actions'
                    % server_id).json()['instanceActions']
    assert sorted(a['action'] for a in actions) == sorted([
        'create', 'changePassword', 'trigger_crash_dump', 'createBackup',
        'createBackup'])


def test_shelve_shows_the_status_then_shelved_offloaded_and_unshelve_active(
        api_system):
    """Shelve (offloaded at once, [DEFAULT] shelved_offload_time 0): the
    server shows its own status (ACTIVE, task_state shelving...) until
    it is shelved (SHELVED while the offload runs) and then
    SHELVED_OFFLOADED with no host; unshelve: SHELVED_OFFLOADED
    until ACTIVE on a host, its shelved image deleted."""
    _inject(api_system, {'upload_snapshot': {'delay_s': 1.0},
                         'fetch_image': {'delay_s': 1.0}})
    url = api_system.url
    flavor = requests.get(url + '/v2.1/flavors').json()['flavors'][0]
    image = requests.get(url + '/image/v2/images').json()['images'][0]
    resp = requests.post(url + '/v2.1/servers', headers=HEADERS,
                         json={'server': {'name': 'shelf', 'networks': 'auto',
                                          'flavorRef': flavor['id'],
                                          'imageRef': image['id']}})
    server_id = resp.json()['server']['id']
    server_url = url + '/v2.1/servers/' + server_id
    wait_for(lambda: requests.get(server_url).json()['server']['status']
             == 'ACTIVE', timeout=60, what='ACTIVE')

    resp = requests.post(server_url + '/action', json={'shelve': None},
                         headers=HEADERS)
    assert resp.status_code == 202, resp.text
    shelving = Poller(url, server_id)
    shelving.start()
    wait_for(lambda: shelving.seen
             and shelving.seen[-1][0] == 'SHELVED_OFFLOADED',
             timeout=60, what='SHELVED_OFFLOADED')
    shelving.done.set()
    shelving.join()
    # As in Nova, the shelve commits (SHELVED, task_state
    # shelving_offloading) before the offload that follows at once.
    assert shelving.statuses() in (
        ['ACTIVE', 'SHELVED_OFFLOADED'],
        ['ACTIVE', 'SHELVED', 'SHELVED_OFFLOADED']), shelving.seen
    assert {task for status, task, _ in shelving.seen
            if status == 'SHELVED'} <= {'shelving_offloading'}
    tasks = [task for _status, task, _ in shelving.seen]
    assert 'shelving_image_uploading' in tasks, tasks
    server = requests.get(server_url, headers=HEADERS).json()['server']
    assert server['OS-EXT-STS:vm_state'] == 'shelved_offloaded'
    assert server['OS-EXT-SRV-ATTR:host'] is None
    [shelved] = [i for i in requests.get(url + '/image/v2/images').json()[
        'images'] if i['name'] == 'shelf-shelved']
    assert shelved['status'] == 'active'

    resp = requests.post(server_url + '/action', json={'unshelve': None},
                         headers=HEADERS)
    assert resp.status_code == 202, resp.text
    unshelving = Poller(url, server_id)
    unshelving.start()
    wait_for(lambda: unshelving.seen and unshelving.seen[-1][0] == 'ACTIVE',
             timeout=60, what='ACTIVE')
    unshelving.done.set()
    unshelving.join()
    assert unshelving.statuses() == ['SHELVED_OFFLOADED', 'ACTIVE'], (
        unshelving.seen)
    assert 'spawning' in [task for _s, task, _ in unshelving.seen]
    server = requests.get(server_url, headers=HEADERS).json()['server']
    assert server['OS-EXT-SRV-ATTR:host']
    assert requests.get(url + '/image/v2/images/' + shelved['id']
                        ).status_code == 404
