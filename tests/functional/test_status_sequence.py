"""What a client polling over HTTP sees while a server boots and is deleted.

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
