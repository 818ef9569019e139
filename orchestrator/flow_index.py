"""Finding flows in TaskFlow's logbook tables without reading them all.

:func:`orchestrator.flow_views.list_flows` loads every logbook with every
atom: fine for an operator's command, too much for a page that polls
every second or two. Here each read is one indexed query whose size is
bounded by what is asked for:

* :func:`flows` by state (the flows in flight or failed are few, whatever
  the history), by logbook (an instance's flows: each action's book uuid
  is derived from its flow and claim, :func:`book_uuid_of`), by uuid or
  by a uuid prefix (a range on the primary key);
* :func:`atoms` of the given flows only;
* :func:`flows_of_actions`: the flow of each action, one query.

The tables are TaskFlow's own (``tables.fetch``), built once and read
through :mod:`orchestrator.db.session` (the database the conductor's
persistence writes). Read-only.
"""

import datetime

import sqlalchemy as sa
from taskflow.persistence.backends.sqlalchemy import tables as tf_tables
from taskflow.persistence import models as tf_models
from taskflow import storage as tf_storage

from orchestrator import state_machine
from orchestrator.conductor import jobs
from orchestrator.db import session

from flows import catalog
from flows import cleanup
from flows import evolution

_TABLES = tf_tables.fetch(sa.MetaData())
_FLOWS = _TABLES.flowdetails
_BOOKS = _TABLES.logbooks
_ATOMS = _TABLES.atomdetails

#: Atoms of a logbook that are no step of the flow: TaskFlow's injector
#: (the store) and the kept details of steps an upgrade removed.
INJECTOR_NAME = tf_storage.Storage.injector_name

#: Shortest uuid prefix a lookup accepts (as orchestrator-manage).
MIN_PREFIX = 8
#: Most values bound in one IN (...).
_CHUNK = 500


def is_step(atom_name):
    """True for an atom that is a step of the flow (not the injector,
    not a removed step's kept detail)."""
    return atom_name != INJECTOR_NAME and not atom_name.startswith(
        evolution.REMOVED_PREFIX)


def _select():
    return (sa.select(_FLOWS.c.uuid, _FLOWS.c.name, _FLOWS.c.state,
                      _FLOWS.c.meta, _FLOWS.c.parent_uuid,
                      _BOOKS.c.created_at)
            .select_from(_FLOWS.join(
                _BOOKS, _BOOKS.c.uuid == _FLOWS.c.parent_uuid)))


def _row(row):
    meta = row.meta or {}
    return {'uuid': row.uuid, 'name': row.name, 'state': row.state,
            'meta': meta, 'store': meta.get('store') or {},
            'book': row.parent_uuid, 'created_at': row.created_at}


def _chunks(values):
    values = sorted(set(values))
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def flows(states=None, books=None, uuids=None, newest=None,
          offset=0):
    """Flow rows (dicts: uuid, name, state, meta, store, book,
    created_at (the logbook's, naive UTC)), oldest first.

    :param states: only flows in these states.
    :param books: only flows of these logbook uuids.
    :param uuids: only these flows.
    :param newest: only the ``newest`` most recent flows (after skipping
        ``offset`` of them), still returned oldest first.
    """
    out = []
    conditions = []
    if states is not None:
        conditions.append(_FLOWS.c.state.in_(sorted(states)))
    keyed = [(column, values) for column, values in
             ((_FLOWS.c.parent_uuid, books), (_FLOWS.c.uuid, uuids))
             if values is not None]
    with session.reader() as s:
        if not keyed:
            q = _select().where(*conditions)
            if newest is not None:
                q = q.order_by(_BOOKS.c.created_at.desc(),
                               _FLOWS.c.uuid.desc()).limit(newest)
                q = q.offset(offset)
            out = [_row(r) for r in s.execute(q)]
        else:
            for column, values in keyed:
                for chunk in _chunks(values):
                    out.extend(_row(r) for r in s.execute(
                        _select().where(column.in_(chunk), *conditions)))
    out.sort(key=lambda r: (r['created_at'] or datetime.datetime.min,
                            r['uuid']))
    return out


def find(flow_id):
    """The row of flow ``flow_id`` (a uuid, or a unique prefix of at
    least :data:`MIN_PREFIX` characters).

    :raises LookupError: no flow, or more than one, matches.
    """
    flow_id = (flow_id or '').strip().lower()
    with session.reader() as s:
        found = [_row(r) for r in s.execute(
            _select().where(_FLOWS.c.uuid == flow_id))]
        if not found and len(flow_id) >= MIN_PREFIX:
            # A range on the primary key: every character of a uuid sorts
            # below '~'.
            found = [_row(r) for r in s.execute(
                _select().where(_FLOWS.c.uuid >= flow_id,
                                _FLOWS.c.uuid < flow_id + '~').limit(2))]
    if len(found) != 1:
        raise LookupError('%s flow matches %r' % (
            'no' if not found else 'more than one', flow_id))
    return found[0]


def atoms(flow_uuids):
    """{flow uuid: [atom detail (TaskFlow model), ...]} of the given
    flows, in the order they were saved; every flow of ``flow_uuids``
    is a key."""
    out = {uuid: [] for uuid in flow_uuids}
    with session.reader() as s:
        for chunk in _chunks(flow_uuids):
            rows = s.execute(sa.select(_ATOMS).where(
                _ATOMS.c.parent_uuid.in_(chunk)).order_by(
                    _ATOMS.c.created_at))
            for row in rows:
                values = dict(row._mapping)
                parent = values.pop('parent_uuid')
                values.pop('created_at', None)
                values.pop('updated_at', None)
                detail_class = tf_models.atom_detail_class(
                    values.pop('atom_type'))
                out[parent].append(detail_class.from_dict(values))
    return out


def book_uuid_of(action):
    """The logbook uuid of the flow an instance action ran (an action
    dict of :mod:`orchestrator.db.actions`), or None when it runs none
    (a reset, a power-state correction, a repair's record)."""
    if action['action'] == state_machine.FORCE_DELETE:
        # The force delete's cleanup is keyed by its action, not a claim.
        return jobs.book_uuid_for(cleanup.FLOW_NAME,
                                  'force-delete-%s' % action['id'])
    module = catalog.flow_for(action['action'])
    if module is None or not action.get('task_id'):
        return None
    return jobs.book_uuid_for(module.FLOW_NAME, action['task_id'])


def flows_of_actions(actions):
    """{action id: flow row} of the actions that ran a flow (one
    query)."""
    books = {}
    for action in actions:
        book = book_uuid_of(action)
        if book is not None:
            books[book] = action['id']
    return {books[row['book']]: row for row in flows(books=list(books))}
