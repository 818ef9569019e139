"""A task's transition through a real TaskFlow engine on our backend: one
transaction with its audit companion, and nothing kept in the engine's
memory when that transaction fails."""

import contextlib

import pytest
import sqlalchemy as sa
from taskflow import engines
from taskflow import exceptions as tf_exc
from taskflow.patterns import linear_flow
from taskflow.persistence import models as tf_models
from taskflow import states as tf_states
from taskflow import task

from orchestrator.conductor import atom_writes
from orchestrator.conductor import persistence
from orchestrator.db import session

pytestmark = pytest.mark.timeout(60)

atom_writes.install()


class Step(task.Task):
    def execute(self):
        return self.name


def _engine(backend):
    flow = linear_flow.Flow('atom-writes').add(Step('one'), Step('two'))
    book = tf_models.LogBook('atom-writes')
    flow_detail = tf_models.FlowDetail('atom-writes', uuid='fd-atom-writes')
    book.add(flow_detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    return engines.load(flow, flow_detail=flow_detail, book=book,
                        backend=backend, engine='serial')


def _db_states(backend):
    with contextlib.closing(backend.get_connection()) as conn:
        flow_detail = conn.get_flow_details('fd-atom-writes')
    return {ad.name: ad.state for ad in flow_detail}


def test_each_transition_is_one_transaction_with_its_companion(db):
    backend = persistence.Backend(session.get_engine())
    engine = _engine(backend)
    seen = []
    setattr(engine.storage, atom_writes.COMPANION_ATTR,
            lambda name, state, result: (
                lambda conn: seen.append((name, state))))
    commits = []

    sa.event.listen(session.get_engine(), 'commit',
                    lambda conn: commits.append(1))
    engine.run()
    assert seen == [('one', tf_states.RUNNING), ('one', tf_states.SUCCESS),
                    ('two', tf_states.RUNNING), ('two', tf_states.SUCCESS)]
    states = _db_states(backend)
    assert states['one'] == states['two'] == tf_states.SUCCESS
    # 4 transitions, plus the flow's own state changes and its atoms'
    # creation: never one more commit per transition.
    assert len(commits) <= 4 + 4


def test_a_failed_transition_is_not_kept_in_memory(db, monkeypatch):
    backend = persistence.Backend(session.get_engine())
    engine = _engine(backend)
    monkeypatch.setattr(persistence.tf_storage, 'RETRY_WAIT_TIMEOUT', 0.01)
    real = persistence._Connection.write_joined

    def away_at_two_success(self, joined):
        for atom_detail in joined.atoms.values():
            if atom_detail.name == 'two' and \
                    atom_detail.state == tf_states.SUCCESS:
                raise tf_exc.StorageFailure('the database is away')
        return real(self, joined)

    monkeypatch.setattr(persistence._Connection, 'write_joined',
                        away_at_two_success)
    with pytest.raises(tf_exc.StorageFailure):
        engine.run()
    # The engine's memory, and so anything it writes later (its FAILURE),
    # still has the step running, as the database does.
    assert engine.storage.get_atom_state('two') == tf_states.RUNNING
    assert _db_states(backend)['two'] == tf_states.RUNNING
