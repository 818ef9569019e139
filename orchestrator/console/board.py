"""The jobboard and the flow persistence, as the API process uses them.

The console shows who owns each flow's job and when its lease ends, and
its repair posts a job (:mod:`orchestrator.flow_repair`) for a conductor
to run: the API process needs the ``[jobboard]`` board the conductors
use, and TaskFlow persistence on the same database.

* :func:`get_board`: one board per configuration, connected on first use
  and kept while ``[jobboard]`` names the same board (a board is
  thread-safe; the SQL board costs one query per read, the Redis board
  one client). A backend that cannot be reached is tried again
  :data:`RETRY_AFTER_S` later, not on each of the console's polls (each
  try may wait for a connect timeout).
* :func:`claims`: {flow uuid: {job, owner, expires}} of the jobs on the
  board, in one read.
* :func:`persistence_for`: the TaskFlow persistence backend a repair
  writes with (one per process, its tables built once), having forgotten
  what it wrote of the flow before: the conductor wrote the flow since.
"""

import logging
import threading
import time

from orchestrator.conductor import jobboards
from orchestrator.conductor import persistence
from orchestrator.db import session

LOG = logging.getLogger(__name__)

#: Seconds before a board that could not be connected is tried again.
RETRY_AFTER_S = 10.0
#: Seconds between two warnings that owners cannot be shown.
WARN_EVERY_S = 60.0

_BOARDS = {}
#: {board key: (monotonic time of the failure, its message)}
_FAILED = {}
_LOCK = threading.Lock()
_WARNED = {'at': None}


class BoardUnavailable(Exception):
    """The jobboard cannot be reached (the message says why)."""


def get_board(conf):
    """The connected board of ``[jobboard]`` for ``conf``.

    :raises BoardUnavailable: it cannot be built or connected.
    """
    group = conf.jobboard
    key = (id(conf), group.backend, group.board_name, group.redis_url)
    with _LOCK:
        found = _BOARDS.get(key)
        if found is not None and found[0] is conf:
            return found[1]
        failed = _FAILED.get(key)
        if failed is not None and \
                time.monotonic() - failed[0] < RETRY_AFTER_S:
            raise BoardUnavailable(failed[1])
        try:
            board = jobboards.fetch(conf)
        except Exception as e:  # noqa: BLE001 - any backend's failure
            message = 'the jobboard (%s) is unavailable: %s' % (
                group.backend, e)
            _FAILED[key] = (time.monotonic(), message)
            raise BoardUnavailable(message) from e
        _FAILED.pop(key, None)
        _BOARDS[key] = (conf, board)
        return board


def claims(conf):
    """{flow uuid: {'job', 'owner', 'expires'}} of every job on the
    board (expires: naive UTC or None); {} when the board is unavailable
    (owners are then not shown: the flows still are)."""
    try:
        board = get_board(conf)
        raw = board.claims() if hasattr(board, 'claims') else _generic(
            board)
    except Exception as e:  # noqa: BLE001 - views work without owners
        now = time.monotonic()
        if _WARNED['at'] is None or now - _WARNED['at'] >= WARN_EVERY_S:
            _WARNED['at'] = now
            LOG.warning('Jobboard unavailable (%s); the console shows no '
                        'owners (said once a minute)', e)
        return {}
    out = {}
    for job_uuid, claim in raw.items():
        flow_uuid = claim['details'].get('flow_uuid')
        if flow_uuid:
            out[flow_uuid] = {'job': job_uuid, 'owner': claim['owner'],
                              'expires': claim['expires']}
    return out


def _generic(board):
    """:func:`claims` of a TaskFlow board without ``claims()``: owners
    only, one read per job."""
    return {job.uuid: {'details': job.details or {},
                       'owner': board.find_owner(job), 'expires': None}
            for job in board.iterjobs(ensure_fresh=True)}


def persistence_for(flow_uuid):
    """The process's TaskFlow persistence backend on the API's database,
    with nothing remembered of flow ``flow_uuid``: the conductor wrote
    it since, so what this process last wrote of it (an earlier repair)
    must not decide which columns a repair writes."""
    global _PERSISTENCE
    engine = session.get_engine()
    with _LOCK:
        if _PERSISTENCE is None or _PERSISTENCE.engine is not engine:
            _PERSISTENCE = persistence.Backend(engine)
        backend = _PERSISTENCE
    backend.written.forget_flow(flow_uuid)
    return backend


_PERSISTENCE = None
