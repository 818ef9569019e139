"""Boot and delete through the conductor and the fake hosts (no HTTP).

These drive the system the way the API does (claim in the database, then
the conductor's RPC) so that the flows are tested apart from the API.
"""

import uuid

from orchestrator import context
from orchestrator import states
from orchestrator.conductor import rpcapi as conductor_rpcapi
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import instances

from tests.functional.conftest import wait_for


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


