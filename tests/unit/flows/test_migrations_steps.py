"""flows/tasks/migrations.py, step by step (harness.contract_tests): a
delete's first step ends every migration of its instance that is not
final; the cleanup after a force delete does the same without a claim."""

import uuid

from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import migration_records

from flows.tasks import migrations
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC

#: (migration type, status) -> the status a delete ends it in.
ENDINGS = {
    ('resize', states.MIGRATION_FINISHED): states.MIGRATION_CANCELLED,
    ('live-migration', states.MIGRATION_RUNNING):
        states.MIGRATION_CANCELLED,
    ('live-migration', states.MIGRATION_POST_MIGRATING):
        states.MIGRATION_ERROR,
    ('evacuation', states.MIGRATION_DONE): states.MIGRATION_CANCELLED,
    ('resize', states.MIGRATION_REVERTED): states.MIGRATION_REVERTED,
}


def with_migrations(claimed):
    def setup(env):
        case = env.case(state_machine.DELETE)
        case.params['migrations'] = {
            migration_records.create(
                case.uuid, kind, status, env.host(SRC),
                dest_compute=env.host(DST),
                migration_uuid=str(uuid.uuid4()))['uuid']: ending
            for (kind, status), ending in ENDINGS.items()}
        if not claimed:
            del case.store['task_id']
        return case
    return setup


def _ended(env, case, result):
    expected = case.params['migrations']
    for migration_uuid, status in expected.items():
        assert migration_records.get(migration_uuid)['status'] == status
    assert set(result) <= set(expected)


STEPS = [
    harness.Step(id='EndMigrationsOfDeleted-delete',
                 make=migrations.EndMigrationsOfDeleted,
                 setup=with_migrations(claimed=True), check=_ended,
                 undone=harness.NO_REVERT, same_result=False),
    harness.Step(id='EndMigrationsOfDeleted-cleanup',
                 make=migrations.EndMigrationsOfDeleted,
                 setup=with_migrations(claimed=False), check=_ended,
                 undone=harness.NO_REVERT, same_result=False,
                 claim_checked=False),  # after a force delete: no claim
]

globals().update(harness.contract_tests(STEPS))

