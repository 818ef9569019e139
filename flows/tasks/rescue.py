"""Steps of rescue and unrescue: the guest booted from a rescue image with
its own disk attached, and back.

The rescue system's password is in the flow's params sealed with the
services' key (:mod:`orchestrator.secret_box`), so the logbook keeps only
the sealed text; :class:`RescueOnHost` opens it just before its call to
the host, which keeps only a hash of it.
"""

import logging

from orchestrator import exception
from orchestrator import secret_box
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi

from flows import base
from flows import keys
from flows.tasks import host_calls

LOG = logging.getLogger(__name__)


def rescue_password(params):
    """The rescue password of a rescue's ``params``, opened from its sealed
    form (a flow accepted before passwords were sealed has it in the
    clear, its one copy), or None when the request had none.

    :raises orchestrator.secret_box.SecretUnreadable: sealed with a key
        this conductor does not hold.
    """
    sealed = params.get(keys.SEALED_ADMIN_PASSWORD)
    if sealed is not None:
        return secret_box.unseal(sealed)
    return params.get('admin_password')


class FetchRescueImage(base.InstanceTask):
    """Cache the rescue image (params ``rescue_image_ref``, else the
    server's own image) on its host. Re-run: cached, returns at once."""

    persisted_name = 'flows.tasks.rescue.FetchRescueImage'

    default_provides = keys.IMAGE

    def execute(self, context, instance_uuid, task_id, params):
        instance = self.load_instance(instance_uuid, task_id)
        if not instance['host']:
            raise exception.GuestNotFound(host=None,
                                          instance_uuid=instance_uuid)
        image_id = params.get('rescue_image_ref') or instance['image_ref']
        return host_calls.fetch_to_host(self.context(context),
                                        instance['host'], instance,
                                        image_id)


class RescueOnHost(base.InstanceTask):
    """Boot the guest from the rescue image.

    Checks the claim first. Re-run: a guest in rescue is left so. Revert
    (the flow still owns the instance; whether or not the host finished,
    since it may fail after the guest changed): unrescue, and a server
    that was stopped is powered off again.
    """

    persisted_name = 'flows.tasks.rescue.RescueOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, params, image):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().rescue(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance), image,
            rescue_password(params))

    def revert(self, context, instance_uuid, task_id, **kwargs):
        try:
            instance = self.load_instance(instance_uuid, task_id)
        except exception.Preempted:
            LOG.info('Not undoing the rescue of %s: another task owns it',
                     instance_uuid)
            return
        if not instance['host']:
            return
        ctxt, host = self.context(context), instance['host']
        payload = compute_rpcapi.instance_payload(instance)

        def undo():
            base.compute_api().unrescue(ctxt, host, payload)
            if instance['vm_state'] == states.STOPPED:
                base.compute_api().set_power_state(ctxt, host, payload,
                                                   'power_off')
        base.undo_on_host(host, undo, instance_uuid, task_id, 'unrescue',
                          nothing_if_gone=True)


class UnrescueOnHost(base.InstanceTask):
    """Boot the guest from its own disk again.

    Checks the claim first. Re-run: a guest out of rescue is left so. No
    revert: the rescue system is not brought back (the step after it only
    writes the final state, which a resumed flow retries).
    """

    persisted_name = 'flows.tasks.rescue.UnrescueOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().unrescue(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance))
