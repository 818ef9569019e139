"""The periodic confirm of resizes and cold migrations left waiting.

With ``[DEFAULT] resize_confirm_window_s`` > 0, a server whose resize or
cold migration finished (VERIFY_RESIZE) longer ago than the window is
confirmed by a conductor: it claims the server for ``confirmResize`` (the
same atomic claim a user's request makes, so a user's confirm or revert
racing it makes exactly one of them win) and posts the confirm flow. The
confirm is audited as a ``confirmResize`` action of the user
``orchestrator``.

Re-run: a server already claimed is skipped; a migration no longer
finished is not found again.
"""

import datetime
import logging

from oslo_utils import timeutils

from orchestrator import state_machine
from orchestrator import states
from orchestrator.conductor import system_actions
from orchestrator.db import migration_records

from flows import confirm_resize

LOG = logging.getLogger(__name__)


def due(now, window_s, limit=100):
    """Finished migrations whose window is over (oldest first)."""
    cutoff = now - datetime.timedelta(seconds=window_s)
    found = [m for m in migration_records.list_(
        statuses=[states.MIGRATION_FINISHED])
        if m['migration_type'] in ('resize', 'migration')
        and (m['updated_at'] or m['created_at']) <= cutoff]
    found.sort(key=lambda m: m['updated_at'] or m['created_at'])
    return found[:limit]


def run_once(conf, poster):
    """Claim and post the confirm of every migration that is due.
    Returns the uuids of the servers whose confirm was posted. Does
    nothing when the window is 0 or less."""
    window = conf.resize_confirm_window_s
    if window <= 0:
        return []
    posted = []
    for migration in due(timeutils.utcnow(), window):
        claimed = system_actions.claim_and_post(
            poster, migration['instance_uuid'],
            state_machine.CONFIRM_RESIZE, confirm_resize,
            params={'migration_uuid': migration['uuid']})
        if claimed is None:
            continue
        LOG.info('Confirming the %s of %s: its window of %ss is over',
                 migration['migration_type'], claimed['uuid'], window)
        posted.append(claimed['uuid'])
    return posted
