"""20 concurrent boots over HTTP into one anti-affinity group, 3 hosts.

The all-in-one's 3 compute hosts have room for every one of the 20
servers; only the group's policy limits them. 20 clients POST /servers
at once with ``os:scheduler_hints: {"group": ...}``: exactly 3 servers
end ACTIVE, one per host, and 17 in ERROR with a 'No valid host' fault
naming the policy (the boot flows' claims run in parallel in the
conductor; the group's row lock in the claim's transaction decides).
Deleting an ACTIVE member frees its host for the group, and the deleted
server leaves the group's members.
"""

import threading

from orchestrator.db import allocations

from tests.functional import api_helpers as h
from tests.functional import systems
from tests.waiting import wait_for

BOOTS = 20
HOSTS = 3


def test_twenty_concurrent_boots_into_an_anti_affinity_group(conf,
                                                             tmp_path):
    for resource in ('instances', 'cores', 'ram', 'server_group_members'):
        conf.set_override(resource, -1, group='quota')
    system = systems.start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        group = h.api(system, 'POST', '/v2.1/os-server-groups', json={
            'server_group': {'name': 'spread',
                             'policies': ['anti-affinity']}})
        assert group.status_code == 200, group.text
        group_id = group.json()['server_group']['id']
        image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]

        barrier = threading.Barrier(BOOTS)
        created = [None] * BOOTS

        def create(i):
            barrier.wait(timeout=60)
            try:
                created[i] = h.api(system, 'POST', '/v2.1/servers', json={
                    'server': {'name': 'member-%d' % i, 'flavorRef': '1',
                               'imageRef': image['id'],
                               'networks': 'auto'},
                    'os:scheduler_hints': {'group': group_id}})
            except Exception as e:  # noqa: BLE001 - reported below
                created[i] = e

        clients = [threading.Thread(target=create, args=(i,))
                   for i in range(BOOTS)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(120)
            assert not t.is_alive(), 'a POST /servers hung'
        failed = [getattr(r, 'text', r) for r in created
                  if getattr(r, 'status_code', None) != 202]
        assert failed == [], failed
        server_ids = [r.json()['server']['id'] for r in created]
        outcome = wait_for(lambda: h.outcomes(system, server_ids),
                           timeout=300, interval=0.5,
                           what='every build to end')

        active = [s for s, (status, _f) in outcome.items()
                  if status == 'ACTIVE']
        error = {s: fault for s, (status, fault) in outcome.items()
                 if status == 'ERROR'}
        assert len(active) == HOSTS, outcome
        assert len(error) == BOOTS - HOSTS, outcome
        assert all(fault and fault.startswith('No valid host was found.')
                   and 'anti-affinity' in fault
                   for fault in error.values()), error
        hosts_of = sorted(a['host'] for s in active
                          for a in allocations.list_for_instance(s))
        assert hosts_of == ['compute-1', 'compute-2', 'compute-3']
        assert all(allocations.list_for_instance(s) == [] for s in error)
        shown = h.api(system, 'GET', '/v2.1/os-server-groups/' + group_id)
        assert sorted(shown.json()['server_group']['members']) == sorted(
            server_ids)
        server = h.api(system, 'GET', '/v2.1/servers/' + active[0],
                       headers={'OpenStack-API-Version': 'compute 2.71'})
        assert server.json()['server']['server_groups'] == [group_id]

        # A deleted member leaves the group and frees its host for it.
        gone = active[0]
        assert h.api(system, 'DELETE',
                     '/v2.1/servers/' + gone).status_code == 204
        wait_for(lambda: h.api(system, 'GET', '/v2.1/servers/' + gone)
                 .status_code == 404, timeout=60, what='the delete')
        members = h.api(system, 'GET', '/v2.1/os-server-groups/' +
                        group_id).json()['server_group']['members']
        assert gone not in members and len(members) == BOOTS - 1
        again = h.api(system, 'POST', '/v2.1/servers', json={
            'server': {'name': 'again', 'flavorRef': '1',
                       'imageRef': image['id'], 'networks': 'auto'},
            'os:scheduler_hints': {'group': group_id}})
        assert again.status_code == 202, again.text
        h.wait_stable(system, again.json()['server']['id'], 'ACTIVE')
        print('\n%d boots into an anti-affinity group on %d hosts: %d '
              'ACTIVE, %d ERROR (No valid host)'
              % (BOOTS, HOSTS, len(active), len(error)))
    finally:
        system.stop()
