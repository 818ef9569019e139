"""50 concurrent boots over HTTP against room for exactly 10.

The all-in-one's hosts offer 1024 MB each with a RAM allocation ratio of
2.5 (room for 5 m1.tiny of 512 MB); compute-3 is disabled, so the system
has room for exactly 10. 50 clients POST /servers at once: exactly 10
servers end ACTIVE and 40 in ERROR with a 'No valid host' fault, and a
sampler reading the allocations all along never sees a host past its
capacity times the ratio.
"""

import threading

from orchestrator.db import allocations
from orchestrator.db import hosts
from orchestrator.db import instances
from orchestrator.scheduler import host_selection

from tests.functional import api_helpers as h
from tests.functional import systems
from tests.waiting import wait_for

BOOTS = 50
ROOM = 10
SAMPLE_EVERY_S = 0.02


def test_fifty_concurrent_boots_against_room_for_ten(conf, tmp_path):
    conf.set_override('memory_mb', 1024, group='compute')
    conf.set_override('ram_allocation_ratio', 2.5, group='scheduler')
    # The hosts' room is what runs out here, not the project's quota.
    for resource in ('instances', 'cores', 'ram'):
        conf.set_override(resource, -1, group='quota')
    system = systems.start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        hosts.set_service_disabled('compute-3',
                                   host_selection.COMPUTE_BINARY, True,
                                   'not part of this test')
        limits = {n['host']: {'vcpus': n['vcpus'] * 4.0,
                              'memory_mb': n['memory_mb'] * 2.5,
                              'disk_gb': n['local_gb'] * 1.0}
                  for n in hosts.list_compute_nodes()}
        assert sum(int(v['memory_mb'] // 512) for k, v in limits.items()
                   if k != 'compute-3') == ROOM
        image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]

        done = threading.Event()
        samples = []
        over = []

        def sample():
            # A pause between reads: a tight loop would hold the GIL and
            # the database against the 50 flows it watches.
            while not done.wait(SAMPLE_EVERY_S):
                usage = allocations.usage_by_host()
                samples.append(usage)
                for host, used in usage.items():
                    over.extend((host, key, used[key])
                                for key in ('vcpus', 'memory_mb', 'disk_gb')
                                if used[key] > limits[host][key])

        barrier = threading.Barrier(BOOTS)
        created = [None] * BOOTS

        def create(i):
            barrier.wait(timeout=60)
            try:
                created[i] = h.api(system, 'POST', '/v2.1/servers', json={
                    'server': {'name': 'race-%d' % i, 'flavorRef': '1',
                               'imageRef': image['id'],
                               'networks': 'auto'}})
            except Exception as e:  # noqa: BLE001 - reported below
                created[i] = e

        sampler = threading.Thread(target=sample, name='usage-sampler')
        sampler.start()
        clients = [threading.Thread(target=create, args=(i,))
                   for i in range(BOOTS)]
        try:
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
        finally:
            done.set()
            sampler.join(30)

        active = [s for s, (status, _f) in outcome.items()
                  if status == 'ACTIVE']
        error = {s: fault for s, (status, fault) in outcome.items()
                 if status == 'ERROR'}
        assert len(active) == ROOM and len(error) == BOOTS - ROOM, outcome
        assert all(fault and fault.startswith('No valid host was found.')
                   for fault in error.values()), error
        assert over == [], over
        assert len(samples) > 10, len(samples)
        # Every ACTIVE server holds one allocation, on its own host; the
        # ERROR ones hold none; the disabled host got nothing.
        placed = {}
        for server_id in active:
            (alloc,) = allocations.list_for_instance(server_id)
            assert alloc['host'] == instances.get(server_id)['host']
            placed[alloc['host']] = placed.get(alloc['host'], 0) + 1
        assert placed == {'compute-1': 5, 'compute-2': 5}
        assert all(allocations.list_for_instance(s) == [] for s in error)
        peak = max(u.get('compute-1', {}).get('memory_mb', 0)
                   + u.get('compute-2', {}).get('memory_mb', 0)
                   for u in samples)
        print('\n50 boots, room for 10: %d ACTIVE, %d ERROR (No valid '
              'host); %d usage samples, peak %d MB of %d MB, none over '
              'capacity' % (len(active), len(error), len(samples), peak,
                            2 * 2560))
    finally:
        system.stop()
