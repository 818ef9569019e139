"""Steps of shelve, shelve-offload and unshelve (Nova's shelving).

* Shelve: the guest is powered off (task_state shelving), its disk taken
  and uploaded as an image (shelving_image_pending_upload, then
  shelving_image_uploading; the snapshot steps of createImage with these
  task_states), then :class:`FinishShelve` commits: the image active,
  vm_state shelved, the image's id kept in the instance's
  ``system_metadata`` (``shelved_image_id``, with ``shelved_at`` and
  ``shelved_host``) where unshelve and delete find it.
* Offload (in the shelve itself when ``params['offload']``, or as the
  shelveOffload action): the guest destroyed on its host
  (shelving_offloading), then :class:`FinishOffload` commits: vm_state
  shelved_offloaded, no host, the host's capacity released. The server
  keeps counting in its project's quota (as in Nova: it still exists).
* Unshelve of an offloaded server: the boot flow's host steps under its
  scheduling retry, with :class:`FetchShelvedImage` instead of the
  instance's own image, then :class:`FinishUnshelve`. Of a shelved one:
  the guest powered on, then :class:`FinishUnshelve`. Both delete the
  shelved image once the server is active again.
"""

import logging

from oslo_utils import timeutils
from taskflow.patterns import linear_flow

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import allocations
from orchestrator.db import catalog
from orchestrator.db import instances

from flows import base
from flows import keys
from flows.tasks import host_calls
from flows.tasks import power
from flows.tasks import snapshot

LOG = logging.getLogger(__name__)

#: Keys of an instance's system_metadata a shelve writes (persisted).
SHELVED_IMAGE_ID = 'shelved_image_id'
SHELVED_AT = 'shelved_at'
SHELVED_HOST = 'shelved_host'
SHELVED_KEYS = (SHELVED_IMAGE_ID, SHELVED_AT, SHELVED_HOST)

#: Keys of a shelve's and an unshelve's params (persisted in stores).
IMAGE_ID = 'image_id'
OFFLOAD = 'offload'

#: Power operations that bring a guest powered off for a shelve back to
#: what its vm_state says (the vm_state does not change before the
#: shelve commits).
RESTORE_POWER = {
    states.ACTIVE: ('power_on',),
    states.STOPPED: (),
    states.PAUSED: ('power_on', 'pause'),
    states.SUSPENDED: ('power_on', 'suspend'),
}


def _payload(instance):
    return compute_rpcapi.instance_payload(instance)


def shelved_image_id(instance):
    """The image a shelved (or offloaded) instance was saved to, or
    None."""
    return (instance.get('system_metadata') or {}).get(SHELVED_IMAGE_ID)


def without_shelved_keys(instance):
    """The instance's system_metadata without what a shelve wrote (None
    when nothing else is left)."""
    kept = {k: v for k, v in (instance.get('system_metadata') or {}).items()
            if k not in SHELVED_KEYS}
    return kept or None


def _committed(instance_uuid, image_id):
    """True once the shelve committed: the instance names ``image_id``
    as its shelved image."""
    instance = instances.get(instance_uuid, read_deleted=True)
    return shelved_image_id(instance) == image_id


class DeleteShelvedImageOnRevert(snapshot.DeleteImageOnRevert):
    """No execute. Revert: as createImage's (the image deleted, the
    host's local copy forgotten), unless the shelve committed: then the
    image is what the shelved server is, and it stays (a failed offload
    after the commit leaves the server shelved, its image kept).
    Re-run: as createImage's."""

    persisted_name = 'flows.tasks.shelve.DeleteShelvedImageOnRevert'

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        if _committed(instance_uuid, params[IMAGE_ID]):
            return
        super().revert(context, instance_uuid, task_id, params, **kwargs)


class PowerOffForShelve(base.InstanceTask):
    """Power the guest off (task_state shelving), as Nova does before
    taking its disk. Checks the claim first. Re-run: a guest already off
    is left so. Revert (before the commit, while the flow still owns the
    instance): the guest brought back to what its vm_state says
    (:data:`RESTORE_POWER`: running, paused or suspended; a stopped one
    stays off); a guest that is gone leaves nothing to undo."""

    persisted_name = 'flows.tasks.shelve.PowerOffForShelve'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id):
        instance = self.update_instance(instance_uuid, task_id,
                                        task_state=states.SHELVING)
        return base.compute_api().set_power_state(
            self.context(context), instance['host'], _payload(instance),
            'power_off')

    def revert(self, context, instance_uuid, task_id, params, **kwargs):
        if _committed(instance_uuid, params[IMAGE_ID]):
            return
        try:
            instance = self.load_instance(instance_uuid, task_id)
        except exception.Preempted:
            LOG.info('Not powering %s back: another task owns it',
                     instance_uuid)
            return
        operations = RESTORE_POWER.get(instance['vm_state'], ())
        if not operations or not instance['host']:
            return
        ctxt, host = self.context(context), instance['host']

        def undo():
            for operation in operations:
                base.compute_api().set_power_state(
                    ctxt, host, _payload(instance), operation)
        base.undo_on_host(host, undo, instance_uuid, task_id,
                          ', '.join(operations), nothing_if_gone=True)


class FinishShelve(base.InstanceTask):
    """The commit of a shelve: the image becomes active with its size and
    checksum, the host drops its local copy, and in one write vm_state
    becomes shelved, power_state what the power-off left, the image's id,
    the time and the host go into system_metadata, and task_state
    becomes shelving_offloading when ``params['offload']`` (the offload
    steps follow) or is cleared.

    Checks the claim first: a server deleted during the upload is not
    shelved (its delete and this flow's rollback remove the image).
    Re-run after the commit: the image is already active, the write is
    skipped (the shelved image is there), the rest converges. No revert:
    before the commit nothing of it is left to undo.
    """

    persisted_name = 'flows.tasks.shelve.FinishShelve'

    def execute(self, context, instance_uuid, task_id, params, upload,
                power_state):
        image_id = params[IMAGE_ID]
        instance = self.load_instance(instance_uuid, task_id)
        catalog.image_update(image_id, ('queued', 'saving'),
                             status='active', size=upload['size'],
                             checksum=upload['checksum'])
        if shelved_image_id(instance) == image_id:
            return  # committed before (a re-run)
        base.compute_api().delete_snapshot(self.context(context),
                                           instance['host'], image_id)
        system_metadata = dict(instance.get('system_metadata') or {})
        system_metadata.update({
            SHELVED_IMAGE_ID: image_id,
            SHELVED_AT: timeutils.utcnow().isoformat(),
            SHELVED_HOST: instance['host']})
        self.update_instance(
            instance_uuid, task_id, action=state_machine.SHELVE,
            vm_state=states.SHELVED, power_state=power_state,
            system_metadata=system_metadata, progress=100,
            task_state=(states.SHELVING_OFFLOADING
                        if params.get(OFFLOAD) else None))


def _offload_wanted(params):
    """A shelveOffload always offloads (its params have no OFFLOAD); a
    shelve only when its params say so."""
    return (params or {}).get(OFFLOAD, True)


class DestroyForOffload(base.InstanceTask):
    """Destroy the shelved guest on its host (task_state
    shelving_offloading). Nothing when the flow is a shelve not asked to
    offload. Checks the claim first. Re-run: destroying a guest that is
    gone is not an error. No revert: a destroyed guest is not brought
    back (its disk is the shelved image). Its failure rolls the offload
    back (the guest still there, the server shelved); once it succeeded,
    the offload only rolls forward (:class:`OffloadRollForward` retries
    :class:`FinishOffload`), so a shelved server is never left without
    its guest.
    """

    persisted_name = 'flows.tasks.shelve.DestroyForOffload'

    def execute(self, context, instance_uuid, task_id, params=None):
        if not _offload_wanted(params):
            return
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.SHELVING_OFFLOADING)
        if instance['host']:
            base.compute_api().destroy(self.context(context),
                                       instance['host'], _payload(instance))


class OffloadRollForward(base.RollForwardRetry):
    """The retry of :class:`FinishOffload`, past the guest's destruction
    (:class:`flows.base.RollForwardRetry`): it runs again until it
    succeeds; only a lost claim (a force delete, a reset, the deadline
    watchdog) reverts the flow, whose reverts then leave the instance to
    whoever claimed it."""

    persisted_name = 'flows.tasks.shelve.OffloadRollForward'

    what = 'Offload of a destroyed guest'


def offload_commit(flow_name):
    """The subflow after :class:`DestroyForOffload`: :class:`FinishOffload`
    under :class:`OffloadRollForward` (a destroyed guest's offload rolls
    forward only)."""
    return linear_flow.Flow(flow_name + '-commit',
                            retry=OffloadRollForward()).add(FinishOffload())


class FinishOffload(base.InstanceTask):
    """The commit of an offload: vm_state shelved_offloaded, no host nor
    node, power_state nostate, task_state cleared (one write), then every
    allocation of the instance released (the server keeps counting in
    its project's quota, which counts servers, not allocations). Nothing
    when the flow is a shelve not asked to offload.

    Re-run after the commit (even when another task claimed the instance
    since): the write is skipped, the release converges. No revert.
    """

    persisted_name = 'flows.tasks.shelve.FinishOffload'

    def execute(self, context, instance_uuid, task_id, params=None):
        if not _offload_wanted(params):
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        committed = (instance['vm_state'] == states.SHELVED_OFFLOADED
                     and instance['host'] is None)
        if not committed:
            self.update_instance(
                instance_uuid, task_id, action=state_machine.SHELVE_OFFLOAD,
                vm_state=states.SHELVED_OFFLOADED, host=None, node=None,
                power_state=states.NOSTATE, task_state=None)
        allocations.release_instance(instance_uuid)


class FetchShelvedImage(base.InstanceTask):
    """Cache the shelved image (params ``image_id``) on the selected
    host (task_state spawning). Re-run: a cached image returns at once.
    No revert (the cache is shared; a destroy drops the reference)."""

    persisted_name = 'flows.tasks.shelve.FetchShelvedImage'

    default_provides = keys.IMAGE

    def execute(self, context, instance_uuid, task_id, params,
                selected_host):
        instance = self.update_instance(instance_uuid, task_id,
                                        task_state=states.SPAWNING)
        return host_calls.fetch_to_host(self.context(context),
                                        selected_host, instance,
                                        params[IMAGE_ID])


class PowerOnForUnshelve(power.ChangePowerOnHost):
    """Power the shelved guest on, on its host. As
    :class:`flows.tasks.power.ChangePowerOnHost` (re-run converges;
    revert powers it off again while the flow owns the instance)."""

    persisted_name = 'flows.tasks.shelve.PowerOnForUnshelve'

    def __init__(self, **kwargs):
        super().__init__('power_on', **kwargs)


class FinishUnshelve(base.InstanceTask):
    """The commit of an unshelve: vm_state active, power_state as the
    host said, the shelve's keys gone from system_metadata, task_state
    cleared (one write, for the action ``action``); then the shelved
    image is deleted.

    Re-run after the commit (even when another task claimed the instance
    since): the write is skipped, deleting the deleted image is a no-op.
    No revert: before the commit nothing of it is left to undo.
    """

    persisted_name = 'flows.tasks.shelve.FinishUnshelve'

    def __init__(self, action, **kwargs):
        self.action = action
        super().__init__(**kwargs)

    def execute(self, context, instance_uuid, task_id, params,
                power_state):
        instance = instances.get(instance_uuid, read_deleted=True)
        if shelved_image_id(instance) == params[IMAGE_ID]:
            self.update_instance(
                instance_uuid, task_id, action=self.action,
                vm_state=states.ACTIVE, power_state=power_state,
                system_metadata=without_shelved_keys(instance),
                task_state=None, progress=100)
        if catalog.image_delete(params[IMAGE_ID]):
            LOG.info('Deleted shelved image %s of %s', params[IMAGE_ID],
                     instance_uuid)


def forget_shelved_image(instance):
    """For a deleted ``instance``: delete its shelved image (if it has
    one), then drop the shelve's keys from its system_metadata, so
    nothing is left for :func:`orchestrator.conductor.shelved_offload.
    forget_images_of_deleted` to find. Idempotent (deleting the deleted
    image is a no-op): a crash between the two writes is finished by
    that periodic. Returns True when an image was deleted."""
    image_id = shelved_image_id(instance)
    if not image_id:
        return False
    deleted = catalog.image_delete(image_id)
    if deleted:
        LOG.info('Deleted shelved image %s of deleted %s', image_id,
                 instance['uuid'])
    instances.drop_system_metadata_keys_of_deleted(instance['uuid'],
                                                   SHELVED_KEYS)
    return bool(deleted)


class DeleteShelvedImage(base.InstanceTask):
    """The shelved image of a server being deleted is deleted (the delete
    flow's step before MarkDeleted; a server never shelved has none).
    Checks no claim: the delete is past its host steps, the image goes
    whatever happens next (a rollback leaves the server in ERROR, to be
    deleted again). The name left in system_metadata is dropped by the
    periodic :func:`orchestrator.conductor.shelved_offload.
    forget_images_of_deleted` once the instance is deleted. Idempotent:
    deleting the deleted image is a no-op. No revert."""

    persisted_name = 'flows.tasks.shelve.DeleteShelvedImage'

    def execute(self, instance_uuid):
        forget_shelved_image(instances.get(instance_uuid,
                                           read_deleted=True))
