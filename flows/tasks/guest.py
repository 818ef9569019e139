"""Steps of the actions that reach inside a running guest without
changing its vm_state: changePassword (through the guest's agent) and
trigger_crash_dump (an NMI).

Neither can be undone: a password set is not unset (the old one is not
known), an interrupt is not taken back. Their flows' rollback is the
sentinel's: task_state cleared, vm_state unchanged, a fault saying why.
The password is in the flow's params sealed with the services' key
(:mod:`orchestrator.secret_box`); :class:`SetAdminPasswordOnHost` opens
it just before its call to the host, which keeps at most a hash of it.
"""

from orchestrator import exception
from orchestrator import secret_box
from orchestrator.compute import rpcapi as compute_rpcapi

from flows import base
from flows import keys


def _instance_on_host(task, instance_uuid, task_id):
    """The instance under the claim; GuestNotFound when it has no host."""
    instance = task.load_instance(instance_uuid, task_id)
    if not instance['host']:
        raise exception.GuestNotFound(host=None, instance_uuid=instance_uuid)
    return instance


class SetAdminPasswordOnHost(base.InstanceTask):
    """Set the guest's administrator password (params
    ``admin_password_sealed``). Checks the claim first; the host refuses
    a guest that does not run (GuestNotRunning). Re-run: the same
    password set again converges. No revert: the previous password is
    not known to anyone but the guest."""

    persisted_name = 'flows.tasks.guest.SetAdminPasswordOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, params):
        instance = _instance_on_host(self, instance_uuid, task_id)
        return base.compute_api().set_admin_password(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance),
            secret_box.unseal(params[keys.SEALED_ADMIN_PASSWORD]))


class TriggerCrashDumpOnHost(base.InstanceTask):
    """Inject an NMI into the guest. Checks the claim first; the host
    refuses a guest that is shut down (GuestNotRunning). Re-run: the
    host knows the task's NMI was injected and injects no second one.
    No revert: an interrupt is not taken back."""

    persisted_name = 'flows.tasks.guest.TriggerCrashDumpOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id):
        instance = _instance_on_host(self, instance_uuid, task_id)
        return base.compute_api().trigger_crash_dump(
            self.context(context), instance['host'],
            compute_rpcapi.instance_payload(instance))


class FinishGuestAction(base.InstanceTask):
    """task_state cleared, vm_state unchanged, power_state as the host
    reported it. Re-run after it committed writes the same."""

    persisted_name = 'flows.tasks.guest.FinishGuestAction'

    def __init__(self, action, **kwargs):
        self.action = action
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id, power_state):
        self.update_instance(instance_uuid, task_id, action=self.action,
                             task_state=None, power_state=power_state)
