"""Driving an all-in-one over HTTP in functional tests: boot, act, wait,
look at the fake hosts."""

import requests

from orchestrator.compute.drivers import fake_faults

from tests.waiting import wait_for

HEADERS = {'OpenStack-API-Version': 'compute 2.47'}


def api(system, method, path, **kwargs):
    """One request to the system's API at microversion 2.47."""
    headers = dict(HEADERS, **kwargs.pop('headers', {}))
    return requests.request(method, system.url + path, headers=headers,
                            timeout=30, **kwargs)


def act(system, server_id, body, expect=202, version=None):
    """POST an action (at ``version``, default 2.47); asserts its status
    code; returns the response."""
    headers = ({'OpenStack-API-Version': 'compute ' + version}
               if version else {})
    resp = api(system, 'POST', '/v2.1/servers/%s/action' % server_id,
               json=body, headers=headers)
    assert resp.status_code == expect, (body, resp.status_code, resp.text)
    return resp


def server(system, server_id):
    return api(system, 'GET', '/v2.1/servers/' + server_id).json()['server']


def boot(system, name='vm', image_index=0):
    """Boot a server from the first flavor; wait until it is ACTIVE."""
    flavor = api(system, 'GET', '/v2.1/flavors').json()['flavors'][0]
    image = api(system, 'GET', '/image/v2/images').json()['images'][
        image_index]
    resp = api(system, 'POST', '/v2.1/servers', json={'server': {
        'name': name, 'flavorRef': flavor['id'], 'imageRef': image['id'],
        'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    wait_stable(system, server_id, 'ACTIVE')
    return server_id


def wait_stable(system, server_id, status, timeout=60):
    """Wait until no task runs on the server; assert its status."""
    def stable():
        found = server(system, server_id)
        return found if found['OS-EXT-STS:task_state'] is None else None

    found = wait_for(stable, timeout=timeout, what='task to end')
    assert found['status'] == status, found
    return found


def outcomes(system, server_ids):
    """{server id: (status, fault message)} once no task runs on any of
    them, else None (a ``wait_for`` condition)."""
    out = {}
    for server_id in server_ids:
        found = server(system, server_id)
        if found['OS-EXT-STS:task_state'] is not None:
            return None
        out[server_id] = (found['status'],
                          (found.get('fault') or {}).get('message'))
    return out


def status_pairs_until(system, server_id, status, timeout=60):
    """Distinct (status, task_state) pairs seen until (status, None)."""
    seen = []

    def record():
        found = server(system, server_id)
        pair = (found['status'], found['OS-EXT-STS:task_state'])
        if not seen or seen[-1] != pair:
            seen.append(pair)
        return pair == (status, None)

    wait_for(record, timeout=timeout, interval=0.02, what=status)
    return seen


def guest(system, server_id):
    """(host, guest record) of the server's guest, or (None, None)."""
    for compute in system.computes:
        found = compute.driver.host_state()['guests'].get(server_id)
        if found is not None:
            return compute.host, found
    return None, None


def host_leftovers(system, server_id, keys=('guests', 'networks',
                                            'block_devices', 'snapshots')):
    """What any host still has of the server under ``keys`` of its host
    file (empty: clean)."""
    left = []
    for compute in system.computes:
        state = compute.driver.host_state()
        for key in keys:
            if key == 'snapshots':
                left.extend((compute.host, 'snapshot ' + snap_id)
                            for snap_id, snap in state[key].items()
                            if snap['instance_uuid'] == server_id)
            elif server_id in state[key]:
                left.append((compute.host, key))
    return left


def inject(system, faults):
    """Replace the run-time faults of every fake host."""
    for compute in system.computes:
        fake_faults.write_runtime_faults(compute.driver.state_dir,
                                         compute.host, faults)


def calls(system, method):
    """How often ``method`` ran on all fake hosts."""
    return sum(c.driver.host_state()['calls'].get(method, 0)
               for c in system.computes)
