"""Logbook snapshots: flows in flight, as a release left them, for the
next release to resume.

A snapshot is one JSON file: the all-in-one's whole database when its
process was killed at a failpoint of one flow (the logbook, flow detail
and atom detail rows, the job, the instances, actions, migrations,
allocations, hosts...), its schema revision, the fake hosts' files, and
what the resume must end in. :func:`restore` writes it into a fresh
state directory: the database created at the snapshot's schema revision
(the all-in-one then upgrades it to today's, as a real upgrade does),
the rows, the hosts' files, the services' key (a test key).

``python -m tests.logbooks.generate --release <name> --out
tests/fixtures/logbooks/<name>/`` writes them (:mod:`.generate`);
tests/logbooks/test_resume.py resumes each with today's code.
"""

import base64
import glob
import json
import os

import sqlalchemy as sa

from orchestrator.db import schema

from tests.crash import cases
from tests.crash import recipes

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'fixtures', 'logbooks')
DB_FILE = 'orchestrator.sqlite'
HOSTS_DIR = 'fake-hosts'
#: The services' key file: sealed secrets in stores (a rescue's
#: password) open only with it; an upgrade keeps it.
KEY_FILE = 'secrets.key'
FORMAT = 1

#: The points of a flow a snapshot is taken at.
BEFORE_FIRST_STEP = 'before-first-step'
MID_FLOW = 'mid-flow'
PAST_NO_RETURN = 'past-no-return'
MID_REVERT = 'mid-revert'


def _past_no_return_step(module, atoms):
    """The first step past the flow's point of no return (its
    POINT_OF_NO_RETURN, else the first step its sentinel's
    error_if_failed_in names), or None."""
    ponr = cases.point_of_no_return(module)
    if ponr is not None:
        return ponr
    sentinel, _meta = next(module.get_flow().iter_nodes())
    past = getattr(sentinel, 'error_if_failed_in', ())
    return next((atom for atom in atoms if atom in past), None)


def points(module, recipe):
    """{point: crash case} of one flow: killed before its first step, in
    the middle, past its point of no return (flows that have one), in
    the middle of a rollback (flows that roll back)."""
    flow = module.FLOW_NAME
    atoms = cases.atom_names(module)
    out = {BEFORE_FIRST_STEP: cases.Case(flow, '%s:job:before-run' % flow),
           MID_FLOW: cases.Case(flow, '%s:%s:after-execute' % (
               flow, atoms[len(atoms) // 2]))}
    past = _past_no_return_step(module, atoms)
    if past is not None:
        out[PAST_NO_RETURN] = cases.Case(
            flow, '%s:%s:after-execute' % (flow, past))
    if recipe.fail:
        failed = recipe.fail_step
        out[MID_REVERT] = cases.Case(flow, '%s:%s:after-revert' % (
            flow, failed), rollback=cases.FAULT)
    elif cases.last_step_failure(module, recipe) is not None:
        out[MID_REVERT] = cases.Case(flow, '%s:%s:after-revert' % (
            flow, atoms[len(atoms) // 2]), rollback=cases.LAST)
    return out


def expected_end(case):
    """(flow state, server status or None: gone) ``case`` ends in."""
    recipe = recipes.RECIPES[case.flow]
    outcome = cases.expected_outcome(case)
    status = recipe.done if outcome == cases.SUCCESS \
        else recipe.reverted_status(case.rollback or cases.FAULT)
    return outcome, status


# -- the JSON of a state directory ------------------------------------------


def _json_value(value):
    if isinstance(value, bytes):
        return {'__bytes__': base64.b64encode(value).decode()}
    return value


def _db_value(value):
    if isinstance(value, dict) and set(value) == {'__bytes__'}:
        return base64.b64decode(value['__bytes__'])
    return value


#: Flow states whose logbooks a snapshot leaves out (flows that ended
#: before the kill: the template's history, nothing to resume).
_ENDED = ('SUCCESS', 'REVERTED')


def _prune(tables):
    """Leave out the logbooks of flows that ended and the events of
    actions that finished (history: nothing to resume)."""
    finished = {a['id'] for a in tables['instance_actions']
                if a['finish_time']}
    tables['instance_actions_events'] = [
        e for e in tables['instance_actions_events']
        if e['action_id'] not in finished]
    ended = {f['uuid'] for f in tables['flowdetails']
             if f['state'] in _ENDED}
    tables['flowdetails'] = [f for f in tables['flowdetails']
                             if f['uuid'] not in ended]
    tables['atomdetails'] = [a for a in tables['atomdetails']
                             if a['parent_uuid'] not in ended]
    books = {f['parent_uuid'] for f in tables['flowdetails']}
    tables['logbooks'] = [b for b in tables['logbooks']
                          if b['uuid'] in books]
    return tables


def dump(state_dir, meta):
    """The snapshot of ``state_dir`` (a killed all-in-one's) as a dict;
    the logbooks of flows that ended before are left out."""
    engine = sa.create_engine('sqlite:///%s' % os.path.join(state_dir,
                                                           DB_FILE))
    try:
        revision = schema.current_revision(engine)
        tables = {}
        with engine.connect() as conn:
            for table in sorted(sa.inspect(engine).get_table_names()):
                if table.endswith('alembic_version'):
                    continue  # the revision is the snapshot's own key
                rows = conn.execute(sa.text(
                    'select * from "%s" order by rowid' % table))
                tables[table] = [{k: _json_value(v)
                                  for k, v in row._mapping.items()}
                                 for row in rows]
    finally:
        engine.dispose()
    hosts = {}
    for path in sorted(glob.glob(os.path.join(state_dir, HOSTS_DIR, '*'))):
        with open(path) as f:
            hosts[os.path.basename(path)] = f.read()
    with open(os.path.join(state_dir, KEY_FILE)) as f:
        key = f.read()
    return dict(meta, format=FORMAT, schema_revision=revision,
                tables=_prune(tables), host_files=hosts, key_file=key)


def restore(snapshot, state_dir):
    """Write ``snapshot`` into the new state directory ``state_dir``."""
    os.makedirs(os.path.join(state_dir, HOSTS_DIR))
    engine = sa.create_engine('sqlite:///%s' % os.path.join(state_dir,
                                                           DB_FILE))
    try:
        schema.sync_taskflow(engine)
        schema.sync_orchestrator(engine, snapshot['schema_revision'])
        inspector = sa.inspect(engine)
        with engine.begin() as conn:
            for name, rows in snapshot['tables'].items():
                # Raw values, as SQLite holds them (no type conversion);
                # a column this revision lacks is left out.
                known = {c['name'] for c in inspector.get_columns(name)}
                conn.execute(sa.text('delete from "%s"' % name))
                for row in rows:
                    cols = [k for k in row if k in known]
                    conn.execute(sa.text(
                        'insert into "%s" (%s) values (%s)' % (
                            name, ', '.join('"%s"' % c for c in cols),
                            ', '.join(':c%d' % i
                                      for i in range(len(cols))))),
                        {'c%d' % i: _db_value(row[c])
                         for i, c in enumerate(cols)})
    finally:
        engine.dispose()
    key_path = os.path.join(state_dir, KEY_FILE)
    with open(os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
        f.write(snapshot['key_file'])
    for name, text in snapshot['host_files'].items():
        with open(os.path.join(state_dir, HOSTS_DIR, name), 'w') as f:
            f.write(text)


def file_name(flow_name, point):
    return '%s__%s.json' % (flow_name[len(cases.PREFIX):], point)


def load(path):
    with open(path) as f:
        return json.load(f)


def all_snapshots(root=FIXTURES):
    """Every snapshot file under ``root``, sorted (release/file)."""
    return sorted(glob.glob(os.path.join(root, '*', '*.json')))
