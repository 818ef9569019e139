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

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import instances
from orchestrator.db import migration_records

from flows import confirm_resize
from flows import keys

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
        ctxt = orch_context.get_admin_context()
        try:
            claimed, action = instances.claim(
                migration['instance_uuid'], state_machine.CONFIRM_RESIZE,
                {'request_id': ctxt.request_id, 'user_id': ctxt.user_id,
                 'project_id': ctxt.project_id})
        except (exception.InstanceInvalidState,
                exception.InstanceNotFound) as e:
            LOG.info('Not confirming migration %s: %s', migration['uuid'],
                     e)
            continue
        store = {keys.CONTEXT: ctxt.to_dict(),
                 keys.INSTANCE_UUID: claimed['uuid'],
                 keys.TASK_ID: claimed['task_id'],
                 keys.ACTION_ID: action['id'],
                 keys.PARAMS: {'migration_uuid': migration['uuid']}}
        poster.post(confirm_resize, store, claimed['task_id'])
        LOG.info('Confirming the %s of %s: its window of %ss is over',
                 migration['migration_type'], claimed['uuid'], window)
        posted.append(claimed['uuid'])
    return posted
