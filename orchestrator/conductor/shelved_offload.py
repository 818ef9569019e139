"""The periodic offload of shelved servers.

With ``[DEFAULT] shelved_offload_time`` > 0 a shelve leaves the server
shelved (its guest off on its host, the host's capacity held). This
periodic offloads every server shelved (``system_metadata['shelved_at']``)
longer ago than that: it claims the server for an ordinary
``shelveOffload`` (the same atomic claim an administrator's request
makes, so an unshelve or a second conductor racing it makes exactly one
of them win) and posts the offload flow, audited as a ``shelveOffload``
of the user ``orchestrator``, as Nova's ``_poll_shelved_instances``.

Re-run: a server already claimed, unshelved or offloaded is skipped; one
whose claim was made but whose job was not posted is left to the
deadline watchdog.

:func:`forget_images_of_deleted` (the same interval, whatever
``shelved_offload_time``) finishes what a crash left of a deleted
server's shelved image: a force delete deletes the instance, then its
image, in two writes; a deleted instance whose system_metadata still
names a shelved image gets it deleted and the name dropped. Re-run:
deleting a deleted image is a no-op.
"""

import datetime
import logging

from oslo_utils import timeutils

from orchestrator import state_machine
from orchestrator import states
from orchestrator.conductor import system_actions
from orchestrator.db import instances

from flows import shelve_offload
from flows.tasks import shelve as shelve_steps

LOG = logging.getLogger(__name__)


def _shelved_at(instance):
    text = (instance.get('system_metadata') or {}).get(
        shelve_steps.SHELVED_AT)
    if not text:
        return None
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        LOG.warning('Server %s has an unreadable shelved_at %r',
                    instance['uuid'], text)
        return None


def due(now, offload_time_s, limit=100):
    """Shelved servers with no task shelved at least ``offload_time_s``
    seconds before ``now`` (oldest first, at most ``limit``)."""
    cutoff = now - datetime.timedelta(seconds=offload_time_s)
    found = [(at, i) for i in instances.list_(filters={
        'vm_state': states.SHELVED, 'task_state': None})
        for at in [_shelved_at(i)] if at is not None and at <= cutoff]
    found.sort(key=lambda pair: pair[0])
    return [i for _at, i in found[:limit]]


def run_once(conf, poster):
    """Claim and post the offload of every shelved server that is due.
    Returns the uuids whose offload was posted. Does nothing unless
    ``shelved_offload_time`` > 0 (0: the shelve offloads; -1: never)."""
    offload_time = conf.shelved_offload_time
    if offload_time <= 0:
        return []
    posted = []
    for instance in due(timeutils.utcnow(), offload_time):
        claimed = system_actions.claim_and_post(
            poster, instance['uuid'], state_machine.SHELVE_OFFLOAD,
            shelve_offload)
        if claimed is None:
            continue
        LOG.info('Offloading server %s shelved at %s', claimed['uuid'],
                 (instance['system_metadata'] or {}).get(
                     shelve_steps.SHELVED_AT))
        posted.append(claimed['uuid'])
    return posted


def forget_images_of_deleted(limit=100):
    """Delete the shelved images still named by deleted instances (at
    most ``limit`` instances a run) and drop their names. Returns the
    uuids of the instances whose image was deleted now."""
    done = []
    for instance in instances.deleted_with_system_metadata_key(
            shelve_steps.SHELVED_IMAGE_ID, limit=limit):
        try:
            if shelve_steps.forget_shelved_image(instance):
                done.append(instance['uuid'])
        except Exception:  # noqa: BLE001 - the next run tries again
            LOG.exception('Could not delete the shelved image of deleted '
                          'server %s', instance['uuid'])
    return done
