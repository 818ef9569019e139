"""TaskFlow's SQL persistence backend, lean: tables built once, no read
before a write, only what changed written.

TaskFlow's ``SQLAlchemyBackend`` is kept (its tables, its reads, its
logbook saves) with four changes:

* **Tables built once.** Its ``get_connection`` built a new ``MetaData``
  and new table objects for each connection (about 54 per boot and
  delete); SQLAlchemy keys its compiled-statement cache by table, so no
  statement was ever found in the cache and the throw-away tables stayed
  alive in it (RSS grew about 8 MB per boot and delete). Every connection
  of :class:`Backend` shares one set.
* **An atom's update is one UPDATE.** TaskFlow read the atom's row,
  merged the engine's copy into it and wrote every column back, in one
  transaction per transition. The engine that holds the job's claim is
  the only writer of its flow (a stale owner is fenced by the claim check
  and by the task_id compare-and-swap of every step), so the merge always
  gave the engine's copy: :meth:`_Connection.update_atom_details` writes
  that copy's changed columns in a single UPDATE (NotFound when the row
  is gone, as before).
* **A flow's update writes the flow row and the atoms that changed.**
  TaskFlow read the flow and all its atoms, then rewrote every atom, at
  each flow state change (a boot has about ten). Now the flow row is one
  UPDATE, new atoms are INSERTed, and an atom is written only when it
  differs from what this process last read or wrote of it.
* **A transition is one transaction.** :func:`joined_writes` gathers
  the atom writes a thread makes in a block (TaskFlow saves a task's
  state and result, then its progress, in two writes) and writes them at
  the block's end in ONE transaction, with the companion writes given to
  it (the transition's audit event): see
  :mod:`orchestrator.conductor.atom_writes`. A crash leaves either all of
  them or none. Should the joined transaction fail, the atoms are
  written alone (their failure is the engine's, as before) and the
  companion after them, its failure only logged: the audit never breaks
  a flow. A write that fails is tried again as TaskFlow tries its own
  saves.

What this process last read or wrote of each atom is kept in a bounded
cache (:class:`_Written`); a flow that ended is dropped from it. An atom
not in the cache is written whole, which is TaskFlow's behaviour, so a
cold cache (a restart, a takeover) costs statements, never correctness.
"""

import collections
import contextlib
import json
import logging
import threading
import time

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow import exceptions as tf_exc
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence.backends.sqlalchemy import tables
from taskflow.persistence import models as tf_models
from taskflow import states as tf_states
from taskflow import storage as tf_storage

LOG = logging.getLogger(__name__)

#: The joined write (:func:`joined_writes`) this thread gathers, if any.
_GATHERING = threading.local()

#: Atoms whose last written values are remembered (LRU beyond).
WRITTEN_CACHE_SIZE = 20000

_ENDED_FLOW_STATES = frozenset([tf_states.SUCCESS, tf_states.REVERTED,
                                tf_states.FAILURE])


class _Written:
    """{atom uuid: the fingerprint (:func:`_fingerprint`) of the row this
    process last read or wrote}, bounded (least recently used first
    out), thread-safe."""

    def __init__(self, size=WRITTEN_CACHE_SIZE):
        self._size = size
        self._values = collections.OrderedDict()
        self._by_flow = collections.defaultdict(set)
        self._lock = threading.Lock()

    def get(self, uuid):
        with self._lock:
            return self._values.get(uuid)

    def put(self, flow_uuid, uuid, values):
        with self._lock:
            self._values[uuid] = values
            self._values.move_to_end(uuid)
            self._by_flow[flow_uuid].add(uuid)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def forget(self, uuid):
        with self._lock:
            self._values.pop(uuid, None)

    def forget_flow(self, flow_uuid):
        with self._lock:
            for uuid in self._by_flow.pop(flow_uuid, ()):
                self._values.pop(uuid, None)


def _atom_values(atom_detail, flow_uuid):
    values = atom_detail.to_dict()
    values['atom_type'] = tf_models.atom_detail_type(atom_detail)
    values['parent_uuid'] = flow_uuid
    return values


def _fingerprint(values):
    """{column: its value as canonical JSON}: a snapshot of a row that
    later changes to the engine's (shared, mutable) dicts cannot alter."""
    return {k: json.dumps(v, sort_keys=True, default=repr)
            for k, v in values.items()}


class _Joined:
    """The atom writes one thread gathered, and the companion write."""

    def __init__(self, backend, companion):
        self.backend = backend
        self.companion = companion
        #: {atom uuid: the atom detail last given for it}
        self.atoms = collections.OrderedDict()


@contextlib.contextmanager
def joined_writes(backend, companion=None):
    """Gather the atom writes of ``backend`` this thread makes in the
    block; write them, and ``companion(conn)`` (writes of the caller's on
    the same SQLAlchemy connection), in one transaction when the block
    ends without an exception. Nothing is written when it raises.

    Outside a block (or for another backend) every write is immediate.
    A failed write is tried again as TaskFlow tries its own saves
    (``RETRY_ATTEMPTS`` times, ``RETRY_WAIT_TIMEOUT`` s apart).
    :raises NotFound: a gathered atom's row is gone.
    :raises StorageFailure: the database failed the atoms' write each
        time.
    """
    joined = _Joined(backend, companion)
    previous = getattr(_GATHERING, 'joined', None)
    _GATHERING.joined = joined
    try:
        yield
    finally:
        _GATHERING.joined = previous
    for attempt in range(1, tf_storage.RETRY_ATTEMPTS + 1):
        try:
            with contextlib.closing(backend.get_connection()) as conn:
                conn.write_joined(joined)
            return
        except tf_exc.StorageFailure:
            # As TaskFlow retries its own saves: a database away for a
            # few seconds must not fail the flow.
            if attempt == tf_storage.RETRY_ATTEMPTS:
                raise
            LOG.warning('Writing atoms %s failed (attempt %d of %d); '
                        'trying again in %s s', list(joined.atoms), attempt,
                        tf_storage.RETRY_ATTEMPTS,
                        tf_storage.RETRY_WAIT_TIMEOUT)
            time.sleep(tf_storage.RETRY_WAIT_TIMEOUT)


class _Connection(impl_sqlalchemy.Connection):
    """TaskFlow's connection on its backend's shared tables, writing
    only what changed."""

    def __init__(self, backend, upgrade_lock):
        # Not the parent's __init__: it is what builds the tables anew.
        self._backend = backend
        self._upgrade_lock = upgrade_lock
        self._engine = backend.engine
        self._metadata, self._tables, self._converter = backend.schema
        self._written = backend.written

    # -- atoms ---------------------------------------------------------------

    @staticmethod
    def _changed(values, fingerprint, known):
        """The columns of ``values`` (whose fingerprint is
        ``fingerprint``) that differ from ``known`` (every column when
        nothing is known), without the row's keys."""
        changed = {k: v for k, v in values.items()
                   if known is None or known.get(k) != fingerprint[k]}
        changed.pop('uuid', None)
        changed.pop('parent_uuid', None)
        return changed

    def _write_atom(self, conn, values, changed):
        """UPDATE the ``changed`` columns of the atom of ``values``;
        return the rows it matched (1 when nothing changed)."""
        if not changed:
            return 1
        table = self._tables.atomdetails
        return conn.execute(sa.update(table).where(
            table.c.uuid == values['uuid']).values(changed)).rowcount

    def update_atom_details(self, atom_detail):
        """Write ``atom_detail`` (the claim holder's copy) in one UPDATE
        of its changed columns. Re-run: writes nothing more.

        Inside :func:`joined_writes` the write is gathered, not made.

        :raises NotFound: no such atom row.
        """
        joined = getattr(_GATHERING, 'joined', None)
        if joined is not None and joined.backend is self._backend:
            joined.atoms[atom_detail.uuid] = atom_detail
            joined.atoms.move_to_end(atom_detail.uuid)
            return atom_detail
        uuid, flow_uuid, values, fingerprint, changed = self._to_write(
            atom_detail)
        if not changed:
            return atom_detail
        try:
            with self._engine.begin() as conn:
                matched = self._write_atom(conn, values, changed)
        except sa_exc.SQLAlchemyError:
            tf_exc.raise_with_cause(
                tf_exc.StorageFailure, 'Failed updating atom details with '
                'uuid %r' % atom_detail.uuid)
        if matched == 0:
            self._written.forget(atom_detail.uuid)
            raise tf_exc.NotFound('No atom details found with uuid %r'
                                  % atom_detail.uuid)
        self._remember_written([(uuid, flow_uuid, values, fingerprint,
                                 changed)])
        return atom_detail

    def _to_write(self, atom_detail):
        """(uuid, flow uuid or None, column values, their fingerprint,
        the changed columns) of ``atom_detail`` against what this process
        last read or wrote of it."""
        known = self._written.get(atom_detail.uuid)
        flow_uuid = json.loads(known['parent_uuid']) if known else None
        values = _atom_values(atom_detail, flow_uuid)
        fingerprint = _fingerprint(values)
        return (atom_detail.uuid, flow_uuid, values, fingerprint,
                self._changed(values, fingerprint, known))

    def _remember_written(self, atoms):
        for uuid, flow_uuid, _values, fingerprint, _changed in atoms:
            if flow_uuid is not None:
                self._written.put(flow_uuid, uuid, fingerprint)

    def _write_gathered(self, conn, atoms):
        for uuid, _flow_uuid, values, _fingerprint, changed in atoms:
            if self._write_atom(conn, values, changed) == 0:
                self._written.forget(uuid)
                raise tf_exc.NotFound('No atom details found with uuid %r'
                                      % uuid)

    def write_joined(self, joined):
        """Write what :func:`joined_writes` gathered (see there)."""
        atoms = [self._to_write(ad) for ad in joined.atoms.values()]
        if not any(a[4] for a in atoms) and joined.companion is None:
            return
        try:
            with self._engine.begin() as conn:
                self._write_gathered(conn, atoms)
                if joined.companion is not None:
                    joined.companion(conn)
        except tf_exc.NotFound:
            raise
        except Exception:  # noqa: BLE001 - split below, never lost
            if joined.companion is None:
                tf_exc.raise_with_cause(
                    tf_exc.StorageFailure, 'Failed updating atom details')
            LOG.warning('The joined write of atoms %s failed; writing them '
                        'alone', list(joined.atoms), exc_info=True)
            try:
                with self._engine.begin() as conn:
                    self._write_gathered(conn, atoms)
            except sa_exc.SQLAlchemyError:
                tf_exc.raise_with_cause(
                    tf_exc.StorageFailure, 'Failed updating atom details')
            try:
                with self._engine.begin() as conn:
                    joined.companion(conn)
            except Exception:  # noqa: BLE001 - a companion never breaks it
                LOG.exception('The companion write of atoms %s failed',
                              list(joined.atoms))
        self._remember_written(atoms)

    # -- flows ---------------------------------------------------------------

    def update_flow_details(self, flow_detail):
        """Write the flow row, INSERT its new atoms and UPDATE those that
        changed, in one transaction. Re-run: writes the flow row only.

        :raises NotFound: no such flow row.
        """
        flows = self._tables.flowdetails
        atoms = self._tables.atomdetails
        fd_values = flow_detail.to_dict()
        fd_values.pop('uuid', None)
        written = []
        try:
            with self._engine.begin() as conn:
                matched = conn.execute(sa.update(flows).where(
                    flows.c.uuid == flow_detail.uuid).values(
                        fd_values)).rowcount
                if matched == 0:
                    raise tf_exc.NotFound('No flow details found with uuid '
                                          '%r' % flow_detail.uuid)
                unknown = [ad.uuid for ad in flow_detail
                           if self._written.get(ad.uuid) is None]
                existing = set()
                if unknown:
                    existing = set(conn.execute(sa.select(atoms.c.uuid).where(
                        atoms.c.parent_uuid == flow_detail.uuid)).scalars())
                for ad in flow_detail:
                    values = _atom_values(ad, flow_detail.uuid)
                    fingerprint = _fingerprint(values)
                    known = self._written.get(ad.uuid)
                    if known is None and ad.uuid not in existing:
                        conn.execute(sa.insert(atoms).values(**values))
                    else:
                        self._write_atom(conn, values, self._changed(
                            values, fingerprint, known))
                    written.append((ad.uuid, fingerprint))
        except sa_exc.SQLAlchemyError:
            tf_exc.raise_with_cause(
                tf_exc.StorageFailure, 'Failed updating flow details with '
                'uuid %r' % flow_detail.uuid)
        if flow_detail.state in _ENDED_FLOW_STATES:
            self._written.forget_flow(flow_detail.uuid)
        else:
            for uuid, values in written:
                self._written.put(flow_detail.uuid, uuid, values)
        return flow_detail

    # -- reads remember what they saw -----------------------------------------

    def _remember(self, flow_detail):
        if flow_detail.state in _ENDED_FLOW_STATES:
            return
        for ad in flow_detail:
            self._written.put(flow_detail.uuid, ad.uuid, _fingerprint(
                _atom_values(ad, flow_detail.uuid)))

    def get_flow_details(self, fd_uuid, lazy=False):
        flow_detail = super().get_flow_details(fd_uuid, lazy=lazy)
        if not lazy:
            self._remember(flow_detail)
        return flow_detail

    def get_logbook(self, book_uuid, lazy=False):
        book = super().get_logbook(book_uuid, lazy=lazy)
        if not lazy:
            for flow_detail in book:
                self._remember(flow_detail)
        return book

    def save_logbook(self, book):
        saved = super().save_logbook(book)
        for flow_detail in saved:
            # TaskFlow's save merged with the rows: the cache may be stale.
            self._written.forget_flow(flow_detail.uuid)
        return saved

    def destroy_logbook(self, book_uuid):
        try:
            book = self.get_logbook(book_uuid)
        except tf_exc.NotFound:
            book = None
        super().destroy_logbook(book_uuid)
        for flow_detail in book or ():
            self._written.forget_flow(flow_detail.uuid)


class Backend(impl_sqlalchemy.SQLAlchemyBackend):
    """A TaskFlow SQL persistence backend on ``engine`` (which it does not
    own: :meth:`close` leaves it open), whose connections share one set
    of table objects and one cache of written atoms for its lifetime."""

    def __init__(self, engine):
        super().__init__({}, engine=engine)
        metadata = sa.MetaData()
        schema = tables.fetch(metadata)
        #: (MetaData, tables, row converter) every connection uses.
        self.schema = (metadata, schema, impl_sqlalchemy._Alchemist(schema))
        #: What this process last read or wrote of each atom.
        self.written = _Written()

    def get_connection(self):
        conn = _Connection(self, upgrade_lock=self._upgrade_lock)
        if not self._validated:
            conn.validate(max_retries=self._max_retries)
            self._validated = True
        return conn
