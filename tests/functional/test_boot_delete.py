"""Boot and delete through the conductor and the fake hosts (no HTTP).

These drive the system the way the API does (claim in the database, then
the conductor's RPC) so that the flows are tested apart from the API.
"""


from orchestrator import context
from orchestrator.compute.drivers import fake_faults
from orchestrator import states
from orchestrator.conductor import rpcapi as conductor_rpcapi
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import instances

from tests.waiting import wait_for


def _ctxt():
    return context.RequestContext(user_id='u1', project_id='p1',
                                  is_admin=True)


def boot(name='vm', flavor='1', image_name='cirros-0.6.2'):
    ctxt = _ctxt()
    flv = catalog.flavor_get(flavor)
    image = catalog.image_list(name=image_name)[0]
    inst, action = instances.create(
        dict(display_name=name, project_id='p1', user_id='u1',
             flavor_id=flv['flavorid'], flavor=flv_snapshot(flv),
             vcpus=flv['vcpus'], memory_mb=flv['memory_mb'],
             root_gb=flv['root_gb'], ephemeral_gb=0,
             image_ref=image['id']),
        dict(request_id=ctxt.request_id, user_id='u1', project_id='p1'))
    conductor_rpcapi.ConductorAPI().build_instance(
        ctxt, inst['uuid'], inst['task_id'], action['id'])
    return inst


def flv_snapshot(flv):
    return {k: flv[k] for k in ('flavorid', 'name', 'vcpus', 'memory_mb',
                                'root_gb', 'ephemeral_gb', 'swap')}


def delete(instance_uuid):
    ctxt = _ctxt()
    inst, action = instances.claim(instance_uuid, 'delete',
                                   dict(request_id=ctxt.request_id))
    conductor_rpcapi.ConductorAPI().delete_instance(
        ctxt, instance_uuid, inst['task_id'], action['id'])


def stable(instance_uuid):
    inst = instances.get(instance_uuid, read_deleted=True)
    return inst if inst['task_state'] is None else None


def finished_action(instance_uuid, index=-1):
    """The instance's action (oldest first, by index) once finished."""
    action = list(reversed(actions.list_for_instance(instance_uuid)))[index]
    return action if action['finish_time'] else None


def guests(system):
    out = {}
    for compute in system.computes:
        for uuid_, power in compute.driver.list_instances().items():
            out.setdefault(uuid_, []).append((compute.host, power))
    return out


def test_boot_then_delete(system):
    inst = boot()
    done = wait_for(lambda: stable(inst['uuid']), what='boot to finish')
    assert done['vm_state'] == states.ACTIVE, done
    assert done['power_state'] == states.RUNNING
    assert done['launched_at'] is not None
    assert done['progress'] == 100
    where = guests(system)[inst['uuid']]
    assert where == [(done['host'], states.RUNNING)]
    (alloc,) = allocations.list_for_instance(inst['uuid'])
    assert alloc['host'] == done['host'] and alloc['memory_mb'] == 512
    # The action finishes when the flow does, just after the last step.
    action = wait_for(lambda: finished_action(inst['uuid']),
                      what='action to finish')
    assert action['result'] == states.RESULT_SUCCESS
    events = [e['event'] for e in actions.events_for(action['id'])]
    assert events == ['BuildToErrorOnRevert', 'ScheduleInstance',
                      'PrepareNetworks', 'PrepareBlockDevices', 'FetchImage',
                      'SpawnOnHost', 'MarkActive']

    delete(inst['uuid'])
    gone = wait_for(lambda: stable(inst['uuid']), what='delete to finish')
    assert gone['vm_state'] == states.DELETED and gone['deleted']
    assert inst['uuid'] not in guests(system)
    assert allocations.list_for_instance(inst['uuid']) == []


def test_no_valid_host_gives_error_with_fault(system):
    # Every host offers 32 GiB: a flavor that does not fit anywhere.
    from orchestrator.db import models, session
    with session.writer() as s:
        s.add(models.Flavor(flavorid='huge', name='huge', vcpus=1,
                            memory_mb=10 ** 6, root_gb=1, extra_specs={}))
    inst = boot(flavor='huge')
    done = wait_for(lambda: stable(inst['uuid']), what='boot to fail')
    assert done['vm_state'] == states.ERROR
    assert 'No valid host' in instances.latest_fault(inst['uuid'])['message']
    assert allocations.list_for_instance(inst['uuid']) == []




def inject(system, faults):
    """Set the same run-time faults on every fake host."""
    for compute in system.computes:
        fake_faults.write_runtime_faults(compute.driver.state_dir,
                                         compute.host, faults)


def host_is_clean(system, instance_uuid):
    """No host keeps a guest, a disk or a network of the instance."""
    for compute in system.computes:
        state = compute.driver.host_state()
        text = repr({k: v for k, v in state.items() if k != 'calls'})
        if instance_uuid in text:
            return False
    return True


def test_spawn_failure_reverts_every_step_then_delete_works(system):
    inject(system, {'spawn': 'raise'})
    inst = boot()
    # Every host fails: the build is tried on [scheduler] max_attempts (3)
    # of them before it reverts.
    done = wait_for(lambda: stable(inst['uuid']), timeout=90,
                    what='boot to revert')
    assert done['vm_state'] == states.ERROR
    fault = instances.latest_fault(inst['uuid'])
    assert 'Injected fault in spawn' in fault['message']
    assert allocations.list_for_instance(inst['uuid']) == []
    assert host_is_clean(system, inst['uuid'])
    action = wait_for(lambda: finished_action(inst['uuid']),
                      what='action to finish')
    assert action['result'] == states.RESULT_ERROR
    events = {e['event']: e for e in actions.events_for(action['id'])}
    assert events['SpawnOnHost']['result'] == states.RESULT_ERROR
    assert 'InjectedFault' in events['SpawnOnHost']['traceback']
    for step in ('ScheduleInstance', 'PrepareNetworks',
                 'PrepareBlockDevices', 'SpawnOnHost'):
        assert events[step + ':revert']['result'] == states.RESULT_SUCCESS

    inject(system, {})
    delete(inst['uuid'])
    gone = wait_for(lambda: stable(inst['uuid']), what='delete to finish')
    assert gone['vm_state'] == states.DELETED


def test_force_delete_during_slow_boot_cleans_everything(system):
    inject(system, {'fetch_image': {'delay_s': 3}})
    inst = boot()
    wait_for(lambda: instances.get(inst['uuid'])['task_state']
             == states.SPAWNING, what='image download to start')
    ctxt = _ctxt()
    before, action = instances.force_delete(
        inst['uuid'], dict(request_id=ctxt.request_id))
    conductor_rpcapi.ConductorAPI().cleanup_instance(
        ctxt, inst['uuid'], before['host'], action['id'])
    # Gone at once for the API...
    gone = instances.get(inst['uuid'], read_deleted=True)
    assert gone['vm_state'] == states.DELETED and gone['deleted']
    assert allocations.list_for_instance(inst['uuid']) == []
    # ...and within seconds nothing is left on any host.
    wait_for(lambda: host_is_clean(system, inst['uuid']), timeout=15,
             what='host leftovers to be cleaned')
    boot_action = wait_for(lambda: finished_action(inst['uuid'], 0),
                           timeout=15, what='boot action to finish')
    assert boot_action['result'] == states.RESULT_ERROR
    # The preempted boot never started the guest.
    spawned = sum(c.driver.host_state()['calls'].get('spawn', 0)
                  for c in system.computes)
    assert spawned == 0
    final = instances.get(inst['uuid'], read_deleted=True)
    assert final['vm_state'] == states.DELETED
    assert final['task_state'] is None
    assert allocations.list_for_instance(inst['uuid']) == []
