"""Steps that act on the instance's compute host over RPC.

Each step checks the flow's claim (CAS on task_id, setting the task_state
a client sees) right before its side effect, so a server deleted while an
earlier step ran is never acted on. Host methods are idempotent, so a step
re-run after a crash converges. Reverts call the inverse RPC on the same
host through :func:`flows.base.undo_on_host` (a host down or not
answering leaves it to reconciliation); they are idempotent too.
"""

import logging

from orchestrator import exception
from orchestrator import states
from orchestrator.compute import rpcapi as compute_rpcapi
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import base
from flows import keys

LOG = logging.getLogger(__name__)


def _payload(instance):
    return compute_rpcapi.instance_payload(instance)


class PrepareNetworks(base.InstanceTask):
    """Plug the instance's networks on its host (task_state networking).

    Re-run: the host returns the networks already plugged. Revert: unplugs
    them (a no-op on a host that has none for the instance).
    """

    persisted_name = 'flows.tasks.host_calls.PrepareNetworks'

    def execute(self, context, instance_uuid, task_id, selected_host):
        instance = self.update_instance(instance_uuid, task_id,
                                        task_state=states.NETWORKING)
        info = base.compute_api().prepare_networks(
            self.context(context), selected_host, _payload(instance))
        self.update_instance(instance_uuid, task_id, networks=info)

    def revert(self, context, instance_uuid, task_id, selected_host=None,
               **kwargs):
        if selected_host is None:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt, payload = self.context(context), _payload(instance)
        base.undo_on_host(selected_host, lambda: base.compute_api()
                          .cleanup_networks(ctxt, selected_host, payload),
                          instance_uuid, task_id, 'cleanup_networks')


class PrepareBlockDevices(base.InstanceTask):
    """Create the instance's disks on its host (block_device_mapping).

    Re-run: existing disks are kept. Revert: removes them.
    """

    persisted_name = 'flows.tasks.host_calls.PrepareBlockDevices'

    def execute(self, context, instance_uuid, task_id, selected_host):
        instance = self.update_instance(
            instance_uuid, task_id, task_state=states.BLOCK_DEVICE_MAPPING)
        return base.compute_api().prepare_block_devices(
            self.context(context), selected_host, _payload(instance))

    def revert(self, context, instance_uuid, task_id, selected_host=None,
               **kwargs):
        if selected_host is None:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt, payload = self.context(context), _payload(instance)
        base.undo_on_host(selected_host, lambda: base.compute_api()
                          .cleanup_block_devices(ctxt, selected_host,
                                                 payload),
                          instance_uuid, task_id, 'cleanup_block_devices')


class FetchImage(base.InstanceTask):
    """Download the image into the host's cache (task_state spawning).

    The host casts progress to the conductor, which writes it into the
    instance's progress while this task's claim holds. Re-run: a cached
    image returns at once. Revert: nothing (the cache is shared; destroy
    drops the instance's reference).
    """

    persisted_name = 'flows.tasks.host_calls.FetchImage'

    default_provides = keys.IMAGE

    def execute(self, context, instance_uuid, task_id, selected_host):
        instance = self.update_instance(instance_uuid, task_id,
                                        task_state=states.SPAWNING)
        return fetch_to_host(self.context(context), selected_host, instance,
                             instance['image_ref'])


def fetch_to_host(ctxt, host, instance, image_id):
    """Cache image ``image_id`` on ``host`` for ``instance`` (progress is
    cast into the instance while its task holds). Returns the image as
    the plain dict hosts take ({'id', 'name', 'size'}). Raises
    ImageNotFound for an image that is gone or not active. Re-run: a
    cached image returns at once."""
    image = catalog.image_get(image_id)
    if image['status'] != 'active':
        raise exception.ImageNotFound(image_id=image_id)
    image = {'id': image['id'], 'name': image['name'],
             'size': image['size']}
    base.compute_api().fetch_image(ctxt, host, _payload(instance), image)
    return image


class SpawnOnHost(base.InstanceTask):
    """Create and start the guest on its host.

    Checks the claim first: a server deleted during the image download is
    never started. Re-run: a guest already there is kept. Revert: destroys
    the guest and what belongs to it on the host.
    """

    persisted_name = 'flows.tasks.host_calls.SpawnOnHost'

    default_provides = keys.POWER_STATE

    def execute(self, context, instance_uuid, task_id, selected_host,
                image):
        instance = self.load_instance(instance_uuid, task_id)
        return base.compute_api().spawn(self.context(context),
                                        selected_host, _payload(instance),
                                        image)

    def revert(self, context, instance_uuid, task_id, selected_host=None,
               **kwargs):
        if selected_host is None:
            return
        instance = instances.get(instance_uuid, read_deleted=True)
        ctxt, payload = self.context(context), _payload(instance)
        base.undo_on_host(selected_host, lambda: base.compute_api()
                          .destroy(ctxt, selected_host, payload),
                          instance_uuid, task_id, 'destroy')


class DestroyOnHost(base.InstanceTask):
    """Destroy the guest and its leftovers on the instance's host, and on
    every other host one of its migrations names that is up
    (:func:`destroy_everywhere`): a resize waiting in VERIFY_RESIZE keeps
    a guest on its source, a migration the delete preempted may have one
    on either end.

    Re-run: destroying a guest that is gone is not an error. No revert: a
    destroyed guest is not brought back.
    """

    persisted_name = 'flows.tasks.host_calls.DestroyOnHost'

    def execute(self, context, instance_uuid, task_id):
        instance = self.load_instance(instance_uuid, task_id)
        return destroy_everywhere(self.context(context), instance,
                                  instance['host'])


class DestroyLeftovers(base.InstanceTask):
    """After a force delete: destroy whatever its host still has of it,
    and whatever the other hosts its migrations name (that are up) do
    (:func:`destroy_everywhere`).

    Holds no claim (the instance is deleted). Idempotent: destroying
    what is gone does nothing. Returns whether anything was destroyed.
    """

    persisted_name = 'flows.tasks.host_calls.DestroyLeftovers'

    def execute(self, context, instance_uuid, host):
        if not host:
            return False
        instance = instances.get(instance_uuid, read_deleted=True)
        return destroy_everywhere(self.context(context), instance, host)


def destroy_everywhere(ctxt, instance, host):
    """Destroy the instance's guest (and its disks and ports) on ``host``
    (its own; None: it never got one) and on every other host that a
    migration of it names and that is up. Nothing of a deleted instance
    may stay on any host: a resize waiting for confirm keeps a guest on
    its source, a live migration past its point of no return has one on
    its destination before the instance moves there. A host that is down
    is left to reconciliation (its next power report destroys a deleted
    instance's guest). A call to ``host`` itself that fails raises.

    Idempotent. Returns whether anything was destroyed.
    """
    destroyed = False
    if host:
        destroyed = base.compute_api().destroy(ctxt, host,
                                               _payload(instance))
    for other in sorted(_migration_hosts(instance['uuid']) - {host}):
        if db_hosts.host_is_up(other):
            destroyed = base.compute_api().destroy(
                ctxt, other, _payload(instance)) or destroyed
    return bool(destroyed)


def _migration_hosts(instance_uuid):
    """Every host a migration of the instance names."""
    return {h for m in migration_records.list_(instance_uuid=instance_uuid)
            for h in (m['source_compute'], m['dest_compute']) if h}
