"""Steps of the single-host power actions (stop, start, pause, ...).

A power flow is: a sentinel that ends the task honestly on revert, the
power operation on the instance's host, then the final state write. The
host step's revert applies the inverse operation while the flow still owns
the instance, so a flow that fails after the guest changed puts the guest
back as it was; a preempted flow leaves the guest to the task that
preempted it (a delete destroys it, a reset decides its state).
"""

import logging

from oslo_config import cfg
import oslo_messaging as messaging

from orchestrator import exception
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi

from taskflow.patterns import linear_flow

from flows import base
from flows import keys

LOG = logging.getLogger(__name__)

#: Power operation -> the operation that undoes it (None: nothing to undo).
INVERSE = {
    'power_off': 'power_on',
    'power_on': 'power_off',
    'pause': 'unpause',
    'unpause': 'pause',
    'suspend': 'resume',
    'resume': 'suspend',
    'reboot': None,
    'reboot_hard': None,
}


class ClearTaskOnRevert(base.FinishTaskOnRevert):
    """Sentinel. Revert: task_state cleared, vm_state unchanged, fault."""

    persisted_name = 'flows.tasks.power.ClearTaskOnRevert'


class ChangePowerOnHost(base.InstanceTask):
    """Apply one power operation to the guest on the instance's host.

    Checks the claim right before acting. Re-run: the host leaves a guest
    already in the target state as it is. Revert: applies the inverse
    operation while the flow still owns the instance, whether this step
    completed or failed (a host may fail after changing the guest; the
    inverse of an operation that never happened finds the guest already
    there and does nothing); a guest that is gone leaves nothing to undo.
    """

    persisted_name = 'flows.tasks.power.ChangePowerOnHost'

    default_provides = keys.POWER_STATE

    def __init__(self, operation, **kwargs):
        if operation not in INVERSE:
            raise ValueError('unknown power operation %r' % operation)
        self.operation = operation
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        if not instance['host']:
            raise exception.GuestNotFound(host=None,
                                          instance_uuid=instance_uuid)
        return base.compute_api().set_power_state(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance), self.operation)

    def revert(self, context, instance_uuid, task_id, result=None,
               **kwargs):
        inverse = INVERSE[self.operation]
        if inverse is None:
            return
        undo_power(self, context, instance_uuid, task_id,
                   lambda instance: inverse)


def undo_power(task, context, instance_uuid, task_id, operation_for):
    """A revert's power operation on the instance's host, by the policy
    for host calls during a revert (:func:`flows.base.undo_on_host`).

    ``operation_for(instance)`` names the operation (None: nothing to
    undo). Nothing happens when another task owns the instance or it has
    no host; repeated, the host converges (the guest already in that
    state, or gone)."""
    try:
        instance = task.load_instance(instance_uuid, task_id)
    except exception.Preempted:
        LOG.info('Not undoing %s on %s: another task owns it now',
                 task.name, instance_uuid)
        return
    operation = operation_for(instance)
    if operation is None or not instance['host']:
        return
    ctxt, host = task.context(context), instance['host']
    base.undo_on_host(
        host, lambda: base.compute_api().set_power_state(
            ctxt, host, compute_rpcapi.instance_payload(instance),
            operation),
        instance_uuid, task_id, operation, nothing_if_gone=True)


class FinishPowerAction(base.InstanceTask):
    """vm_state to the action's result, power_state as the host said,
    task_state cleared. Re-run after it committed writes the same."""

    persisted_name = 'flows.tasks.power.FinishPowerAction'

    def __init__(self, action, vm_state, **kwargs):
        self.action = action
        self.vm_state = vm_state
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id, power_state):
        self.update_instance(instance_uuid, task_id, action=self.action,
                             vm_state=self.vm_state, task_state=None,
                             power_state=power_state)


def power_flow(flow_name, operation, action, vm_state):
    """The flow of one power action (each flow module calls it from its
    ``get_flow``)."""
    return linear_flow.Flow(flow_name).add(
        ClearTaskOnRevert(),
        ChangePowerOnHost(operation),
        FinishPowerAction(action, vm_state))


class SoftRebootOrHard(base.InstanceTask):
    """Reboot the guest softly; if that fails or does not finish within
    ``[conductor] soft_reboot_timeout_s``, reboot it hard.

    task_state goes reboot_started, then rebooting_hard if it escalates,
    so a client sees REBOOT, then HARD_REBOOT. Re-run: rebooting again
    converges on a running guest. No revert: a reboot is not undone.
    """

    persisted_name = 'flows.tasks.power.SoftRebootOrHard'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.REBOOT_STARTED)
        payload = compute_rpcapi.instance_payload(instance)
        ctxt = self.context(context)
        try:
            return base.compute_api().set_power_state(
                ctxt, instance['host'], payload, 'reboot',
                timeout=cfg.CONF.conductor.soft_reboot_timeout_s)
        except (messaging.MessagingTimeout,
                exception.OrchestratorError) as e:
            if isinstance(e, (exception.GuestNotFound,
                              exception.Preempted)):
                raise
            LOG.warning('Soft reboot of %s failed (%s); rebooting hard',
                        instance_uuid, e)
        self.update_instance(instance_uuid, task_id,
                             task_state=states.REBOOTING_HARD)
        return base.compute_api().set_power_state(ctxt, instance['host'],
                                                  payload, 'reboot_hard')


def soft_reboot_flow(flow_name, action):
    """The soft reboot flow (escalating to hard on timeout)."""
    return linear_flow.Flow(flow_name).add(
        ClearTaskOnRevert(),
        SoftRebootOrHard(),
        FinishPowerAction(action, states.ACTIVE))
