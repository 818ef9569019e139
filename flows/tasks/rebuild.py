"""Steps of a rebuild: the guest re-imaged from a new image on its host.

The host step is the point of no return: once the host started to
re-create the root disk, the old disk is gone, so a failure from there on
cannot be rolled back and the rebuild's sentinel sets vm_state error (a
new rebuild is the way out, as in Nova). Before it, nothing changed on
the host and a failure leaves the server as it was.
"""

from orchestrator import exception
from orchestrator import secret_box
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi

from flows import base
from flows import keys
from flows.tasks import host_calls

#: vm_state a rebuild ends in, by the vm_state it started in (the table's
#: outcomes): a stopped server stays stopped, an errored one runs.
REBUILT_VM_STATE = {
    src: dst for src, dst in
    state_machine.ACTIONS[state_machine.REBUILD].outcomes}


class FetchRebuildImage(base.InstanceTask):
    """Cache the new image on the instance's host (task_state rebuilding).

    Re-run: a cached image returns at once. No revert: the cache is shared
    and the rebuild step records the instance as its user.
    """

    persisted_name = 'flows.tasks.rebuild.FetchRebuildImage'

    default_provides = keys.IMAGE

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        if not instance['host']:
            raise exception.GuestNotFound(host=None,
                                          instance_uuid=instance_uuid)
        return host_calls.fetch_to_host(self.context(context),
                                        instance['host'], instance,
                                        params['image_ref'])


class RebuildOnHost(base.InstanceTask):
    """Re-image the guest (task_state rebuild_spawning); a server that was
    stopped is powered off again afterwards.

    Checks the claim first: a server deleted during the download is never
    rebuilt. Re-run: the host finds the guest already rebuilt for this
    task_id and image (it keeps the last rebuild's task and image), does
    not re-image it again and returns its power state; a stopped server
    is powered off again (a no-op if it already is). No revert: the old
    disk is gone (see the module docstring).
    """

    persisted_name = 'flows.tasks.rebuild.RebuildOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, image):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.REBUILD_SPAWNING)
        ctxt = self.context(context)
        payload = compute_rpcapi.instance_payload(instance)
        payload['image_ref'] = image['id']
        power_state = base.compute_api().rebuild(ctxt, instance['host'],
                                                 payload, image)
        if REBUILT_VM_STATE[instance['vm_state']] == states.STOPPED:
            power_state = base.compute_api().set_power_state(
                ctxt, instance['host'], payload, 'power_off')
        return power_state


class FinishRebuild(base.InstanceTask):
    """The new image, name, key pair and user data (when given) and power
    state recorded; vm_state per
    :data:`REBUILT_VM_STATE`; task_state cleared. Re-run after it
    committed: the vm_state it wrote maps to itself, same write again."""

    persisted_name = 'flows.tasks.rebuild.FinishRebuild'

    def execute(self, context, instance_uuid, task_id, params, image,
                power_state):
        instance = self.load_instance(instance_uuid, task_id)
        values = {'image_ref': image['id'], 'task_state': None,
                  'power_state': power_state,
                  'vm_state': REBUILT_VM_STATE[instance['vm_state']]}
        if params.get('name'):
            values['display_name'] = params['name']
        if 'key_name' in params:
            values['key_name'] = params['key_name']
        if keys.SEALED_USER_DATA in params:
            values['user_data'] = secret_box.unseal(
                params[keys.SEALED_USER_DATA])
        elif 'user_data' in params:
            values['user_data'] = None
        self.update_instance(instance_uuid, task_id,
                             action=state_machine.REBUILD, **values)
