"""The migration status rules (orchestrator.state_machine.
MIGRATION_TRANSITIONS) and their one writer, migration_records.set_status:
every allowed transition of every type is made on a real database, every
other one is refused with nothing written, racing writers have one
winner, and no code writes a migration's status any other way."""

import ast
import collections
import pathlib
import threading
import uuid

import pytest
import sqlalchemy as sa

from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.db import migration_records
from orchestrator.db import models
from orchestrator.db import session

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _paths(migration_type):
    """{status: the shortest list of statuses from the initial one to it}
    along the type's transitions."""
    edges = collections.defaultdict(set)
    for src, dst in sm.MIGRATION_TRANSITIONS[migration_type]:
        edges[src].add(dst)
    start = sm.MIGRATION_INITIAL[migration_type]
    paths, todo = {start: []}, collections.deque([start])
    while todo:
        here = todo.popleft()
        for there in sorted(edges[here]):
            if there not in paths:
                paths[there] = paths[here] + [there]
                todo.append(there)
    return paths


def _record(migration_type, status=None):
    return migration_records.create(
        str(uuid.uuid4()), migration_type,
        sm.MIGRATION_INITIAL[migration_type] if status is None else status,
        'src-host', dest_compute='dst-host')


def _walk_to(migration_type, status):
    """A record of ``migration_type`` moved, edge by edge, to ``status``."""
    record = _record(migration_type)
    for step in _paths(migration_type)[status]:
        record = migration_records.set_status(record['uuid'], step)
    assert record['status'] == status
    return record


TYPES = sorted(sm.MIGRATION_TRANSITIONS)


def test_the_table_covers_every_type_and_only_known_statuses():
    assert set(TYPES) == s.MIGRATION_TYPES == set(sm.MIGRATION_INITIAL)
    known = {value for name, value in vars(s).items()
             if name.startswith('MIGRATION_') and isinstance(value, str)}
    for migration_type in TYPES:
        assert sm.migration_statuses(migration_type) <= known


@pytest.mark.parametrize('migration_type', TYPES)
def test_every_status_is_reachable_and_can_end(migration_type):
    """From its initial status a migration can reach every status of its
    type, a final status has no way out, and every other status leads to
    a final one (nothing is stuck by the rules)."""
    statuses = sm.migration_statuses(migration_type)
    assert set(_paths(migration_type)) == statuses
    leaving = {src for src, _dst in sm.MIGRATION_TRANSITIONS[migration_type]}
    assert not leaving & s.MIGRATION_FINAL_STATUSES
    assert statuses - s.MIGRATION_FINAL_STATUSES <= leaving
    for status in statuses - s.MIGRATION_FINAL_STATUSES:
        ends = {dst for src, dst in sm.MIGRATION_TRANSITIONS[migration_type]
                if src == status}
        # every live status can end (error, failed or cancelled) at once,
        # or is a waiting one whose task decides.
        assert ends & s.MIGRATION_FINAL_STATUSES, (migration_type, status)


@pytest.mark.parametrize('migration_type', TYPES)
def test_every_allowed_transition_is_written(db, migration_type):
    made = set()
    for src, dst in sorted(sm.MIGRATION_TRANSITIONS[migration_type]):
        record = _walk_to(migration_type, src)
        after = migration_records.set_status(record['uuid'], dst,
                                             from_statuses={src})
        assert after is not None and after['status'] == dst, (src, dst)
        assert migration_records.get(record['uuid'])['status'] == dst
        # Written again (a step re-run): the same record, no transition.
        again = migration_records.set_status(record['uuid'], dst,
                                             from_statuses={src})
        assert again['status'] == dst
        made.add((src, dst))
    assert made == sm.MIGRATION_TRANSITIONS[migration_type]


@pytest.mark.parametrize('migration_type', TYPES)
def test_every_other_transition_is_refused_and_writes_nothing(
        db, migration_type):
    statuses = sm.migration_statuses(migration_type)
    refused = 0
    for src in sorted(statuses):
        for dst in sorted(statuses - {src}):
            if sm.migration_may_transition(migration_type, src, dst):
                continue
            record = _walk_to(migration_type, src)
            with pytest.raises(migration_records.TransitionRefused):
                migration_records.set_status(record['uuid'], dst)
            with pytest.raises(migration_records.TransitionRefused):
                migration_records.set_status(record['uuid'], dst,
                                             from_statuses={src})
            assert migration_records.get(record['uuid'])['status'] == src
            refused += 1
    assert refused > 0


def test_a_resize_cannot_skip_to_finished(db):
    """The write resize used to make with no condition at all."""
    record = _record('resize')
    with pytest.raises(migration_records.TransitionRefused,
                       match='pre-migrating to finished'):
        migration_records.set_status(record['uuid'], s.MIGRATION_FINISHED)
    assert migration_records.get(record['uuid'])['status'] == \
        s.MIGRATION_PRE_MIGRATING


def test_a_status_outside_from_statuses_loses_without_writing(db):
    """A writer that expected another status lost a race: None, nothing
    written, even when the rules would allow the move."""
    record = _walk_to('live-migration', s.MIGRATION_RUNNING)
    assert migration_records.set_status(
        record['uuid'], s.MIGRATION_CANCELLED,
        from_statuses={s.MIGRATION_QUEUED}) is None
    assert migration_records.get(record['uuid'])['status'] == \
        s.MIGRATION_RUNNING


def test_other_values_go_with_the_status_and_update_refuses_a_status(db):
    record = _walk_to('live-migration', s.MIGRATION_POST_MIGRATING)
    done = migration_records.set_status(
        record['uuid'], s.MIGRATION_COMPLETED,
        from_statuses={s.MIGRATION_POST_MIGRATING}, memory_total=10,
        memory_processed=10, memory_remaining=0)
    assert (done['status'], done['memory_total']) == (
        s.MIGRATION_COMPLETED, 10)
    with pytest.raises(migration_records.TransitionRefused):
        migration_records.update(record['uuid'], status=s.MIGRATION_ERROR)
    with pytest.raises(TypeError):
        migration_records.set_status(record['uuid'], s.MIGRATION_ERROR,
                                     status=s.MIGRATION_ERROR)
    assert migration_records.update(record['uuid'], dest_node='n2')[
        'dest_node'] == 'n2'


def test_a_record_is_created_only_in_a_status_of_its_type(db):
    with pytest.raises(migration_records.TransitionRefused):
        _record('resize', s.MIGRATION_QUEUED)
    with pytest.raises(migration_records.TransitionRefused):
        _record('evacuation', s.MIGRATION_RUNNING)


def test_concurrent_writers_one_wins(db):
    """A confirm and a revert racing on a resize waiting in finished, and
    an abort racing the point of no return of a live migration: each
    time exactly one writer moves the status, the other gets None and
    the record holds the winner's status."""
    races = [('resize', s.MIGRATION_FINISHED,
              (s.MIGRATION_CONFIRMING, s.MIGRATION_REVERTING)),
             ('live-migration', s.MIGRATION_RUNNING,
              (s.MIGRATION_POST_MIGRATING, s.MIGRATION_CANCELLED))]
    for migration_type, start, targets in races:
        for _ in range(10):
            record = _walk_to(migration_type, start)
            barrier = threading.Barrier(len(targets))
            results = {}

            def write(target, uuid_=record['uuid'], frm=start,
                      barrier=barrier, results=results):
                barrier.wait()
                results[target] = migration_records.set_status(
                    uuid_, target, from_statuses={frm})

            threads = [threading.Thread(target=write, args=(t,))
                       for t in targets]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            winners = [t for t, r in results.items() if r is not None]
            assert len(winners) == 1, results
            assert migration_records.get(record['uuid'])['status'] == \
                winners[0]


def test_a_status_moved_between_read_and_write_is_judged_again(
        db, monkeypatch):
    """The CAS holds the status read: if another writer moved it in
    between, the CAS misses and the write is judged again on the new
    status (running -> error raced by the point of no return: error is
    allowed from post-migrating too, and written from there)."""
    record = _walk_to('live-migration', s.MIGRATION_RUNNING)
    real_write = migration_records._write
    seen = []

    def racing_write(s_, migration_uuid, from_statuses, values):
        seen.append(set(from_statuses))
        if len(seen) == 1:
            s_.execute(sa.update(models.Migration).where(
                models.Migration.uuid == migration_uuid).values(
                    status=s.MIGRATION_POST_MIGRATING))
        return real_write(s_, migration_uuid, from_statuses, values)

    monkeypatch.setattr(migration_records, '_write', racing_write)
    after = migration_records.set_status(record['uuid'], s.MIGRATION_ERROR)
    assert after['status'] == s.MIGRATION_ERROR
    assert seen == [{s.MIGRATION_RUNNING}, {s.MIGRATION_POST_MIGRATING}]
    with session.reader() as s_:
        assert s_.execute(sa.select(models.Migration.status).where(
            models.Migration.uuid == record['uuid'])).scalar_one() == \
            s.MIGRATION_ERROR


# -- nobody writes a migration's status but set_status -----------------------

WRITER = pathlib.Path('orchestrator/db/migration_records.py')


def _sources():
    for top in ('orchestrator', 'flows'):
        for path in sorted((ROOT / top).rglob('*.py')):
            yield path.relative_to(ROOT), path.read_text()


def _is_migration_model(node):
    """``models.Migration`` or ``Migration`` (as a name or attribute)."""
    return ((isinstance(node, ast.Attribute) and node.attr == 'Migration')
            or (isinstance(node, ast.Name) and node.id == 'Migration'))


def direct_status_writes(relpath, text):
    """The lines of ``text`` that write a migration's status other than
    through migration_records.set_status: an UPDATE of the Migration
    model, ``migration_records.update(..., status=...)``, an assignment
    to a migration row's ``status``, raw SQL updating ``migrations``."""
    found = []
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(
                func, 'id', None)
            if (name == 'update' and node.args
                    and _is_migration_model(node.args[0])
                    and relpath != WRITER):
                found.append(node.lineno)
            if (name in ('update', 'update_in')
                    and isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.value.id == 'migration_records'
                    and any(k.arg == 'status' for k in node.keywords)):
                found.append(node.lineno)
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = (node.targets if isinstance(node, ast.Assign)
                       else [node.target])
            for target in targets:
                if (isinstance(target, ast.Attribute)
                        and target.attr == 'status'
                        and isinstance(target.value, ast.Name)
                        and 'migration' in target.value.id.lower()):
                    found.append(node.lineno)
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and 'update migrations' in node.value.lower()):
            found.append(node.lineno)
    return sorted(found)


def test_no_status_write_outside_the_rules():
    offenders = {}
    for relpath, text in _sources():
        lines = direct_status_writes(relpath, text)
        if lines:
            offenders[str(relpath)] = lines
    assert offenders == {}, (
        'a migration status written outside migration_records.set_status '
        '(the transition rules): %s' % offenders)


@pytest.mark.parametrize('snippet', [
    'sa.update(models.Migration).values(status="error")',
    'migration_records.update(uuid, status="error")',
    'migration.status = "error"',
    's.execute(sa.text("UPDATE migrations SET status=\'x\'"))',
])
def test_the_scan_finds_a_direct_write(snippet):
    """The scan above is not blind: each kind of direct write is found
    in any module but migration_records (and the model UPDATE even
    there is allowed only in that module)."""
    assert direct_status_writes(pathlib.Path('flows/tasks/x.py'),
                                snippet + '\n') == [1]


# pydot's parser still calls pyparsing's old camelCase names.
@pytest.mark.filterwarnings('ignore::DeprecationWarning:pydot')
@pytest.mark.parametrize('migration_type', TYPES)
def test_the_states_document_draws_every_transition(migration_type):
    import pydot

    from orchestrator import state_docs

    (graph,) = pydot.graph_from_dot_data(
        state_docs.render_migration_dot(migration_type))
    drawn = {(e.get_source().strip('"'), e.get_destination().strip('"'))
             for e in graph.get_edges()}
    assert drawn == sm.MIGRATION_TRANSITIONS[migration_type]
    rows = {row[0]: row for row in state_docs.migration_rows(migration_type)}
    assert set(rows) == sm.migration_statuses(migration_type)
    assert 'initial' in rows[sm.MIGRATION_INITIAL[migration_type]][1]
    assert '### %s' % migration_type in state_docs.render_markdown()
