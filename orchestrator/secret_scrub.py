"""Secrets an older version kept, taken out of the database
(``orchestrator-manage secrets scrub``).

Before passwords were sealed and tokens dropped, a flow's store kept the
caller's token in its context and a rescue's password in the clear in
its params, and so did everything that copies a store: the flow's meta
(``flowdetails.meta``), its injector atom (``atomdetails.results``), its
job (``jobs.details``) and an accepted request
(``instance_actions.pending_request``). The scrub rewrites each such
document: every ``context`` loses its token (:data:`orchestrator.context.
SECRET_KEYS`), every ``params`` has its ``admin_password`` sealed
(:mod:`orchestrator.secret_box`), so a rescue still in flight resumes
with it.

Each row is changed by a compare-and-swap on the text it was read with
(a row a service changed meanwhile is read again); running it again
changes nothing. On SQLite the write-ahead log is then checkpointed and
the database vacuumed, so the overwritten pages are gone from the files
too (on other databases the old row versions are the database's to
reclaim: PostgreSQL's ``VACUUM FULL``, MariaDB's ``OPTIMIZE TABLE``).
"""

import json
import sqlite3

import sqlalchemy as sa

from orchestrator import context as orch_context
from orchestrator import secret_box

from flows import keys

#: (table, key column, document column) of every copy of a store.
DOCUMENTS = (('flowdetails', 'uuid', 'meta'),
             ('atomdetails', 'uuid', 'results'),
             ('jobs', 'uuid', 'details'),
             ('instance_actions', 'id', 'pending_request'))
#: What a document holding a secret has in its text.
_SIGNS = ('"auth_token', '"admin_password"')
#: Times a row changed under the scrub is read again.
_ATTEMPTS = 5


def scrub_document(value, seal):
    """``value`` (a JSON document) with no token in a context and no
    clear password in params; ``seal(password)`` gives the sealed text.
    Returns (the new document, whether anything changed)."""
    changed = False
    if isinstance(value, list):
        out = []
        for item in value:
            item, item_changed = scrub_document(item, seal)
            out.append(item)
            changed |= item_changed
        return out, changed
    if not isinstance(value, dict):
        return value, False
    out = {}
    for key, item in value.items():
        if key == keys.CONTEXT and isinstance(item, dict):
            item = {k: v for k, v in item.items()
                    if k not in orch_context.SECRET_KEYS}
            changed |= len(item) != len(value[key])
        elif (key == keys.PARAMS and isinstance(item, dict)
              and 'admin_password' in item):
            item = dict(item)
            password = item.pop('admin_password')
            if (password is not None
                    and keys.SEALED_ADMIN_PASSWORD not in item):
                item[keys.SEALED_ADMIN_PASSWORD] = seal(password)
            changed = True
        item, item_changed = scrub_document(item, seal)
        out[key] = item
        changed |= item_changed
    return out, changed


def _scrub_row(conn, table, key, column, pk, text, seal):
    """Compare-and-swap one row's document: True if it wrote, False if
    the row changed meanwhile, None if it needs nothing."""
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        return None
    document, changed = scrub_document(document, seal)
    if not changed:
        return None
    result = conn.execute(sa.update(table).where(
        table.c[key] == pk, table.c[column] == text).values(
            {column: json.dumps(document, sort_keys=True)}))
    return result.rowcount == 1


def scrub(engine, seal=None):
    """Scrub every copy of a store in the database of ``engine``.

    :param seal: seals a password (default: :func:`orchestrator.
        secret_box.seal` with the configured key; asked for only when a
        clear password is found).
    :returns: {'table.column': rows rewritten}.
    """
    seal = seal or secret_box.seal
    metadata = sa.MetaData()
    counts = {}
    for table_name, key, column in DOCUMENTS:
        table = sa.Table(table_name, metadata, autoload_with=engine)
        document = table.c[column]
        holds_secret = sa.or_(*[document.like('%' + sign + '%')
                                for sign in _SIGNS])
        written = 0
        for _attempt in range(_ATTEMPTS):
            with engine.begin() as conn:
                rows = conn.execute(sa.select(table.c[key], document)
                                    .where(holds_secret)).all()
                lost = 0
                for pk, text in rows:
                    done = _scrub_row(conn, table, key, column, pk, text,
                                      seal)
                    if done:
                        written += 1
                    elif done is False:
                        lost += 1  # changed meanwhile: read it again
            if not lost:
                break
        counts['%s.%s' % (table_name, column)] = written
    if engine.dialect.name == 'sqlite' and any(counts.values()):
        _compact_sqlite(engine.url.database)
    return counts


def _compact_sqlite(path):
    """Rewrite the SQLite database ``path`` without its free pages and
    empty its write-ahead log (outside SQLAlchemy: VACUUM runs in no
    transaction)."""
    if path in (None, '', ':memory:'):
        return
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    try:
        conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
        conn.execute('VACUUM')
        conn.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    finally:
        conn.close()
