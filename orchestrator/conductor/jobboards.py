"""Pick, build and connect the jobboard that [jobboard] backend names.

Backends are classes in the ``orchestrator.jobboards`` entry point group
(setup.cfg: ``sql`` and ``redis``); when the package is not installed (a
source checkout on PYTHONPATH) the built-in ones are found without entry
points. Each is built as TaskFlow builds boards, ``cls(name, conf_dict,
persistence=...)``, so any TaskFlow jobboard class can be plugged in.
"""

import urllib.parse

from oslo_utils import importutils
from stevedore import driver
from stevedore import exception as stevedore_exc

ENTRY_POINT_GROUP = 'orchestrator.jobboards'

#: Backends that work without the package's entry points.
BUILTIN_BACKENDS = {
    'sql': 'orchestrator.conductor.jobboard_sql.SQLJobBoard',
    'redis': 'orchestrator.conductor.jobboard_redis.LeasedRedisJobBoard',
}


def backend_class(name):
    """The jobboard class of backend ``name``.

    :raises ValueError: no entry point and no built-in backend has it.
    """
    try:
        return driver.DriverManager(ENTRY_POINT_GROUP, name,
                                    invoke_on_load=False).driver
    except stevedore_exc.NoMatches as e:
        if name not in BUILTIN_BACKENDS:
            raise ValueError('Unknown jobboard backend %r (known: %s)'
                             % (name, ', '.join(sorted(BUILTIN_BACKENDS)))
                             ) from e
        return importutils.import_class(BUILTIN_BACKENDS[name])


def redis_conf(url):
    """TaskFlow Redis board conf keys from a ``redis://``, ``rediss://``
    or ``unix://`` URL (``redis://[user:password@]host[:port][/db]``)."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    out = {}
    if parts.scheme == 'unix':
        out['unix_socket_path'] = parts.path
    elif parts.scheme in ('redis', 'rediss'):
        out['host'] = parts.hostname or '127.0.0.1'
        out['port'] = parts.port or 6379
        if parts.scheme == 'rediss':
            out['ssl'] = True
    else:
        raise ValueError('Not a Redis URL: %r' % url)
    if parts.username:
        out['username'] = urllib.parse.unquote(parts.username)
    if parts.password:
        out['password'] = urllib.parse.unquote(parts.password)
    db = query.get('db')
    if not db and parts.scheme != 'unix':
        db = parts.path.strip('/')
    if db:
        out['db'] = int(db)
    return out


def board_conf(conf):
    """The conf dict handed to the board class, from oslo.config ``conf``:
    ``board`` (backend name, as TaskFlow's fetch has it), ``board_name``,
    ``claim_lease_s`` ([conductor]), and for ``redis`` the connection keys
    and ``namespace``."""
    group = conf.jobboard
    out = {'board': group.backend,
           'board_name': group.board_name,
           'claim_lease_s': conf.conductor.claim_lease_s}
    if group.backend == 'redis':
        out.update(redis_conf(group.redis_url))
        out['namespace'] = group.redis_namespace
    return out


def fetch(conf, persistence=None):
    """Build the [jobboard] board and connect it.

    :param conf: oslo.config conf with the [jobboard] and [conductor]
        groups registered.
    :param persistence: TaskFlow persistence backend jobs load their
        logbooks from.
    The sql backend uses the database :mod:`orchestrator.db.session` is
    configured with: configure it first.
    :raises taskflow.exceptions.JobFailure: the backend is unreachable.
    """
    cls = backend_class(conf.jobboard.backend)
    board = cls(conf.jobboard.board_name, board_conf(conf),
                persistence=persistence)
    board.connect()
    return board
