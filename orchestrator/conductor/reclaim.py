"""The periodic reclaim of soft-deleted servers.

With ``[DEFAULT] reclaim_instance_interval_s`` > 0 a DELETE soft-deletes
a server (:mod:`flows.soft_delete`). This periodic deletes for good every
server soft-deleted (``deleted_at``) longer ago than that interval: it
claims the server for an ordinary ``delete`` (the same atomic claim a
user's DELETE makes, so a restore or a second conductor racing it makes
exactly one of them win) and posts the delete flow. The delete is audited
as a ``delete`` action of the user ``orchestrator``.

Re-run: a server already claimed or deleted is skipped; one whose claim
was made but whose job was not posted (the conductor died in between) is
left to the deadline watchdog, which ends that task with a decision.
"""

import datetime
import logging

from oslo_utils import timeutils

from orchestrator import state_machine
from orchestrator import states
from orchestrator.conductor import system_actions
from orchestrator.db import instances

from flows import delete

LOG = logging.getLogger(__name__)


def due(now, interval_s, limit=100):
    """Soft-deleted servers with no task whose time is up (oldest
    first, at most ``limit``)."""
    cutoff = now - datetime.timedelta(seconds=interval_s)
    found = [i for i in instances.list_(filters={
        'vm_state': states.SOFT_DELETED, 'task_state': None})
        if i['deleted_at'] is not None and i['deleted_at'] <= cutoff]
    found.sort(key=lambda i: i['deleted_at'])
    return found[:limit]


def run_once(conf, poster):
    """Claim and post the delete of every server that is due. Returns
    the uuids whose delete was posted. Does nothing when reclaim is off."""
    interval = conf.reclaim_instance_interval_s
    if interval <= 0:
        return []
    posted = []
    for instance in due(timeutils.utcnow(), interval):
        claimed = system_actions.claim_and_post(
            poster, instance['uuid'], state_machine.DELETE, delete)
        if claimed is None:
            continue
        LOG.info('Reclaiming soft-deleted server %s (soft-deleted at %s)',
                 claimed['uuid'], instance['deleted_at'])
        posted.append(claimed['uuid'])
    return posted
