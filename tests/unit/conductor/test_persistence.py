"""The lean TaskFlow persistence backend (orchestrator.conductor.
persistence): the same rows as TaskFlow's stock backend, fewer
statements, and joined writes that land together or not at all."""

import contextlib
import random
import uuid

import pytest
import sqlalchemy as sa
from taskflow import exceptions as tf_exc
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence import models as tf_models
from taskflow import states as tf_states

from orchestrator.conductor import persistence

pytestmark = pytest.mark.timeout(120)

ATOM_STATES = [tf_states.PENDING, tf_states.RUNNING, tf_states.SUCCESS,
               tf_states.FAILURE, tf_states.REVERTING, tf_states.REVERTED]


def _engine(tmp_path, name):
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / name))
    with contextlib.closing(
            impl_sqlalchemy.SQLAlchemyBackend({}, engine=engine)
            .get_connection()) as conn:
        conn.upgrade()
    return engine


class Statements:
    def __init__(self, engine):
        self.texts = []
        sa.event.listen(engine, 'before_cursor_execute', self._on)

    def _on(self, _conn, _cursor, statement, *_args):
        self.texts.append(statement.split()[0])

    def writes(self):
        return [t for t in self.texts if t in ('UPDATE', 'INSERT')]


def _book(atoms=3):
    book = tf_models.LogBook('book', uuid=str(uuid.uuid4()))
    flow = tf_models.FlowDetail('flow', uuid=str(uuid.uuid4()))
    for index in range(atoms):
        flow.add(tf_models.TaskDetail('atom-%d' % index, str(uuid.uuid4())))
    book.add(flow)
    return book, flow


def _rows(engine):
    """Every logbook row, without timestamps."""
    out = {}
    with engine.connect() as conn:
        for table in ('logbooks', 'flowdetails', 'atomdetails'):
            rows = conn.exec_driver_sql('SELECT * FROM %s' % table)
            keys = list(rows.keys())
            out[table] = sorted(
                tuple((k, v) for k, v in zip(keys, row, strict=True)
                      if k not in ('created_at', 'updated_at'))
                for row in rows)
    return out


def _random_change(rng, flow):
    atom = rng.choice(list(flow))
    kind = rng.choice(['state', 'result', 'meta', 'flow', 'new atom'])
    if kind == 'state':
        atom.state = rng.choice(ATOM_STATES)
        return 'atom', atom
    if kind == 'result':
        atom.results = {'n': rng.randint(0, 5),
                        'list': [rng.random() for _ in range(2)]}
        return 'atom', atom
    if kind == 'meta':
        atom.meta['progress'] = rng.choice([0.0, 0.5, 1.0])
        return 'atom', atom
    if kind == 'flow':
        flow.state = rng.choice([tf_states.RUNNING, tf_states.SUCCESS,
                                 tf_states.REVERTED, tf_states.SUSPENDED])
        flow.meta['n'] = rng.randint(0, 3)
        return 'flow', flow
    flow.add(tf_models.TaskDetail('atom-%s' % uuid.uuid4().hex[:6],
                                  str(uuid.uuid4())))
    return 'flow', flow


@pytest.mark.parametrize('seed', [1, 2, 3, 20261204])
def test_random_updates_leave_the_same_rows_as_stock_taskflow(tmp_path,
                                                              seed):
    """The same random sequence of atom and flow updates through the
    stock backend and the lean one leaves identical rows."""
    stock_engine = _engine(tmp_path, 'stock.sqlite')
    lean_engine = _engine(tmp_path, 'lean.sqlite')
    stock = impl_sqlalchemy.SQLAlchemyBackend({}, engine=stock_engine)
    lean = persistence.Backend(lean_engine)
    rng = random.Random(seed)
    book, flow = _book()
    for backend in (stock, lean):
        with contextlib.closing(backend.get_connection()) as conn:
            conn.save_logbook(book.copy())
    with contextlib.closing(lean.get_connection()) as conn:
        flow = conn.get_logbook(book.uuid).find(flow.uuid)
    for _ in range(150):
        kind, detail = _random_change(rng, flow)
        for backend in (stock, lean):
            with contextlib.closing(backend.get_connection()) as conn:
                if kind == 'atom':
                    conn.update_atom_details(detail.copy())
                else:
                    conn.update_flow_details(detail.copy())
    assert _rows(lean_engine) == _rows(stock_engine)


def _saved(tmp_path):
    """(engine, lean backend, flow detail as loaded) of a saved book."""
    engine = _engine(tmp_path, 'lean.sqlite')
    backend = persistence.Backend(engine)
    book, flow = _book()
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
        flow = conn.get_logbook(book.uuid).find(flow.uuid)
    return engine, backend, flow


def test_an_atom_update_is_one_update_of_what_changed(tmp_path):
    engine, backend, flow = _saved(tmp_path)
    with contextlib.closing(backend.get_connection()) as conn:
        counted = Statements(engine)
        atom = next(iter(flow)).copy()
        atom.state = tf_states.RUNNING
        conn.update_atom_details(atom)
        assert counted.texts == ['UPDATE']
        # The same again writes nothing at all.
        conn.update_atom_details(atom.copy())
        assert counted.texts == ['UPDATE']
        # A flow state change writes the flow row only.
        flow.state = tf_states.RUNNING
        flow.find(atom.uuid).state = tf_states.RUNNING
        conn.update_flow_details(flow)
        assert counted.writes() == ['UPDATE', 'UPDATE']


def test_an_update_of_a_missing_atom_is_not_found(tmp_path):
    backend = persistence.Backend(_engine(tmp_path, 'lean.sqlite'))
    with contextlib.closing(backend.get_connection()) as conn:
        with pytest.raises(tf_exc.NotFound):
            conn.update_atom_details(tf_models.TaskDetail('x', 'no-such'))


def _state_of(engine, atom_uuid):
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            'SELECT state, meta FROM atomdetails WHERE uuid = ?',
            (atom_uuid,)).one()


def _joined_setup(tmp_path):
    engine, backend, flow = _saved(tmp_path)
    with engine.begin() as conn:
        conn.exec_driver_sql('CREATE TABLE companion (n INTEGER)')
    return engine, backend, next(iter(flow))


def test_joined_writes_land_in_one_transaction_with_the_companion(
        tmp_path):
    engine, backend, atom = _joined_setup(tmp_path)
    commits = []
    sa.event.listen(engine, 'commit', lambda conn: commits.append(1))
    with persistence.joined_writes(
            backend, lambda conn: conn.exec_driver_sql(
                'INSERT INTO companion VALUES (1)')):
        for state in (tf_states.RUNNING, tf_states.SUCCESS):
            changed = atom.copy()
            changed.state = state
            with contextlib.closing(backend.get_connection()) as conn:
                conn.update_atom_details(changed)
        changed = changed.copy()
        changed.meta['progress'] = 1.0
        with contextlib.closing(backend.get_connection()) as conn:
            conn.update_atom_details(changed)
        # Nothing is written before the block ends.
        assert _state_of(engine, atom.uuid)[0] is None
    assert len(commits) == 1
    state, meta = _state_of(engine, atom.uuid)
    assert state == tf_states.SUCCESS and '"progress": 1.0' in meta
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            'SELECT count(*) FROM companion').scalar() == 1


def test_a_block_that_raises_writes_nothing(tmp_path):
    engine, backend, atom = _joined_setup(tmp_path)
    with pytest.raises(RuntimeError):
        with persistence.joined_writes(backend, None):
            changed = atom.copy()
            changed.state = tf_states.RUNNING
            with contextlib.closing(backend.get_connection()) as conn:
                conn.update_atom_details(changed)
            raise RuntimeError('engine failed before the end')
    assert _state_of(engine, atom.uuid)[0] is None


def test_a_failing_companion_never_loses_the_atom_write(tmp_path):
    engine, backend, atom = _joined_setup(tmp_path)

    def broken(conn):
        conn.exec_driver_sql('INSERT INTO no_such_table VALUES (1)')

    with persistence.joined_writes(backend, broken):
        changed = atom.copy()
        changed.state = tf_states.RUNNING
        with contextlib.closing(backend.get_connection()) as conn:
            conn.update_atom_details(changed)
    assert _state_of(engine, atom.uuid)[0] == tf_states.RUNNING


def test_a_joined_write_is_tried_again_while_the_database_is_away(
        tmp_path, monkeypatch):
    """As TaskFlow's own saves: a database away for a moment fails no
    flow (a DB cut made every in-flight boot end in ERROR otherwise)."""
    engine, backend, atom = _joined_setup(tmp_path)
    monkeypatch.setattr(persistence.tf_storage, 'RETRY_WAIT_TIMEOUT', 0.01)
    real = persistence._Connection.write_joined
    failures = [2]

    def flaky(self, joined):
        if failures[0]:
            failures[0] -= 1
            raise tf_exc.StorageFailure('the database is away')
        return real(self, joined)

    monkeypatch.setattr(persistence._Connection, 'write_joined', flaky)
    with persistence.joined_writes(backend, None):
        changed = atom.copy()
        changed.state = tf_states.RUNNING
        with contextlib.closing(backend.get_connection()) as conn:
            conn.update_atom_details(changed)
    assert _state_of(engine, atom.uuid)[0] == tf_states.RUNNING
    # Away for longer than the attempts: the engine gets the failure.
    failures[0] = persistence.tf_storage.RETRY_ATTEMPTS
    with pytest.raises(tf_exc.StorageFailure):
        with persistence.joined_writes(backend, None):
            changed = changed.copy()
            changed.state = tf_states.SUCCESS
            with contextlib.closing(backend.get_connection()) as conn:
                conn.update_atom_details(changed)
    assert _state_of(engine, atom.uuid)[0] == tf_states.RUNNING
