"""Logbooks of an older flow shape are upgraded, then resumed
(:mod:`flows.evolution`, :func:`orchestrator.conductor.flow_healing.
upgrade_logbook`): an atom renamed, a step added, a step removed, each
on its own and all at once through a real engine and the SQL logbook."""

import contextlib
import types

import pytest
import sqlalchemy as sa
from taskflow import engines
from taskflow.patterns import linear_flow
from taskflow.persistence import models as tf_models
from taskflow import states as tf_states
from taskflow import task

from orchestrator.conductor import flow_healing
from orchestrator.conductor import jobs
from orchestrator.conductor import persistence as lean

from flows import catalog
from flows import evolution

MODULE = __name__
RAN = []
#: The step names of the flow :func:`get_flow` builds (the shape of the
#: release the test plays).
SHAPE = []


class Step(task.Task):
    def execute(self):
        RAN.append(self.name)


def get_flow():
    """The factory logbooks record (this module's, imported by name)."""
    return linear_flow.Flow('test-evolving').add(
        *(Step(name=name) for name in SHAPE))


def _module(version, names, upgrades=()):
    """A flow module of version ``version`` whose flow runs steps named
    ``names`` (this test module stands for it: its factory is
    :func:`get_flow`)."""
    SHAPE[:] = names
    return types.SimpleNamespace(
        __name__=MODULE, FLOW_NAME='test-evolving', RESUME_POLICY='resume',
        FLOW_VERSION=version, UPGRADES=tuple(upgrades), get_flow=get_flow)


V1 = ['evo.A', 'evo.B', 'evo.C']


@pytest.fixture
def backend(tmp_path):
    engine = sa.create_engine('sqlite:///%s' % (tmp_path / 'lb.sqlite'))
    backend = lean.Backend(engine)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.upgrade()
    yield backend
    engine.dispose()


def _posted(module, done=(), state=tf_states.RUNNING):
    """A flow detail of ``module`` as a conductor left it: the steps
    ``done`` ran (SUCCESS), the others PENDING."""
    flow_detail = jobs.new_flow_detail(module, {})
    for name in catalog.atom_names(module.get_flow(), retries=True):
        detail = tf_models.TaskDetail(name, name + '-uuid')
        detail.state = (tf_states.SUCCESS if name in done
                        else tf_states.PENDING)
        detail.intention = tf_states.EXECUTE
        flow_detail.add(detail)
    flow_detail.state = state
    return flow_detail


def _names(flow_detail):
    return {ad.name: ad.state for ad in flow_detail
            if ad.name != jobs.INJECTOR_NAME}


def test_a_renamed_atom_keeps_its_progress_and_is_upgraded_once():
    flow_detail = _posted(_module(1, V1), done=['evo.A'])
    order = ['evo.A2', 'evo.B', 'evo.C']
    v2 = _module(2, order,
                 [evolution.RenamedAtom(2, old='evo.A', new='evo.A2')])
    done = evolution.upgrade(flow_detail, v2, order)
    assert 'atom evo.A renamed evo.A2' in done
    assert _names(flow_detail)['evo.A2'] == tf_states.SUCCESS
    assert 'evo.A' not in _names(flow_detail)
    assert flow_detail.meta[evolution.META_KEY] == 2
    assert evolution.upgrade(flow_detail, v2, order) == []


def test_an_added_step_is_recorded_done_only_when_the_flow_is_past_it():
    order = ['evo.A', 'evo.N', 'evo.B', 'evo.C']
    v2 = _module(2, order, [evolution.AddedStep(2, name='evo.N')])
    past = _posted(_module(1, V1), done=['evo.A', 'evo.B'])
    before = _posted(_module(1, V1), done=['evo.A'])
    evolution.upgrade(past, v2, order)
    evolution.upgrade(before, v2, order)
    assert _names(past)['evo.N'] == tf_states.SUCCESS
    assert 'evo.N' not in _names(before)  # TaskFlow runs it, in order


def test_an_added_step_in_a_rolling_back_flow_is_recorded_reverted():
    order = ['evo.A', 'evo.N', 'evo.B', 'evo.C']
    v2 = _module(2, order, [evolution.AddedStep(2, name='evo.N')])
    reverting = _posted(_module(1, V1), done=['evo.A', 'evo.B'],
                        state=tf_states.REVERTING)
    evolution.upgrade(reverting, v2, order)
    assert _names(reverting)['evo.N'] == tf_states.REVERTED


def test_a_removed_step_is_kept_inert():
    v2 = _module(2, ['evo.A', 'evo.C'],
                 [evolution.RemovedStep(2, name='evo.B')])
    flow_detail = _posted(_module(1, V1), done=['evo.A', 'evo.B'])
    evolution.upgrade(flow_detail, v2, ['evo.A', 'evo.C'])
    assert _names(flow_detail)['removed:evo.B'] == tf_states.SUCCESS
    assert 'evo.B' not in _names(flow_detail)


def test_a_logbook_newer_than_the_code_is_refused():
    flow_detail = _posted(_module(3, V1))
    with pytest.raises(ValueError, match='newer than this code'):
        evolution.upgrade(flow_detail, _module(2, V1), V1)


def test_the_factory_follows_the_flow_module():
    flow_detail = _posted(_module(1, V1))
    flow_detail.meta['factory']['name'] = 'flows.old_place.get_flow'
    done = evolution.upgrade(flow_detail, _module(1, V1), V1)
    assert flow_detail.meta['factory']['name'] == MODULE + '.get_flow'
    assert done == ['factory flows.old_place.get_flow is now %s.get_flow'
                    % MODULE]


def test_an_old_logbook_resumes_with_the_new_shape(backend):
    """v1 ran A and B; v2 renamed A, added N before B, removed C and
    added D: the upgraded logbook resumes running only D."""
    v1 = _module(1, V1)
    flow_detail = _posted(v1, done=['evo.A', 'evo.B'])
    book = tf_models.LogBook('test-evolving')
    book.add(flow_detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    v2 = _module(2, ['evo.A2', 'evo.N', 'evo.B', 'evo.D'], [
        evolution.RenamedAtom(2, old='evo.A', new='evo.A2'),
        evolution.AddedStep(2, name='evo.N'),
        evolution.RemovedStep(2, name='evo.C'),
        evolution.AddedStep(2, name='evo.D')])
    with contextlib.closing(backend.get_connection()) as conn:
        loaded = conn.get_flow_details(flow_detail.uuid)
        what = flow_healing.upgrade_logbook(conn, loaded, v2)
        assert 'version 1 -> 2' in what
        again = conn.get_flow_details(flow_detail.uuid)
        assert flow_healing.upgrade_logbook(conn, again, v2) is None
    RAN[:] = []
    with contextlib.closing(backend.get_connection()) as conn:
        stored = conn.get_flow_details(flow_detail.uuid)
    engine = engines.load_from_detail(stored, backend=backend)
    engine.run()
    assert RAN == ['evo.D']
    with contextlib.closing(backend.get_connection()) as conn:
        final = conn.get_flow_details(flow_detail.uuid)
    assert final.state == tf_states.SUCCESS
    assert _names(final) == {'evo.A2': tf_states.SUCCESS,
                             'evo.N': tf_states.SUCCESS,
                             'evo.B': tf_states.SUCCESS,
                             'removed:evo.C': tf_states.PENDING,
                             'evo.D': tf_states.SUCCESS}
