"""flows/tasks/live_migrate.py, step by step (harness.contract_tests): a
live migration from the source to the destination asked for, its
migration record queued by the API."""

import pytest
from taskflow import retry

from orchestrator import exception
from orchestrator import state_machine
from orchestrator import states
from orchestrator.db import migration_records

from flows.tasks import live_migrate
from flows.tasks import shelve
from tests.unit.flows import harness
from tests.unit.flows.harness import DST
from tests.unit.flows.harness import SRC

#: The live migration flow's steps, in order (RollForward, the retry of
#: the steps after CommitToDestination, aside).
LIVE_STEPS = (live_migrate.ClaimLiveMigrationDestination,
              live_migrate.CheckLiveMigrationDestination,
              live_migrate.CheckLiveMigrationSource,
              live_migrate.PreLiveMigration,
              live_migrate.LiveMigrationOnSource,
              live_migrate.CommitToDestination,
              live_migrate.PostLiveMigrationAtDestination,
              live_migrate.SwitchInstanceHost,
              live_migrate.PostLiveMigrationAtSource,
              live_migrate.FinishLiveMigration)


def migrating(env, vm_state=states.ACTIVE):
    case = env.case(state_machine.LIVE_MIGRATE, vm_state, params={
        'host': env.host(DST), 'block_migration': False})
    return harness.add_migration(env, case, 'live-migration',
                                 states.MIGRATION_QUEUED)


#: A live migration whose steps before the one given ran.
up_to = harness.steps_before(migrating, LIVE_STEPS)


def _status(status):
    def check(env, case, *args):
        assert case.migration()['status'] == status
    return check


def _claimed(env, case, result):
    assert result == env.host(DST)
    assert case.allocations() == sorted([
        (case.uuid, env.host(SRC)),
        (case.params['migration_uuid'], env.host(DST))])
    migration = case.migration()
    assert (migration['status'], migration['dest_compute']) == (
        states.MIGRATION_PREPARING, env.host(DST))


def _dest_checked(env, case, result):
    assert result == {'dest_host': env.host(DST), 'block_migration': False}


def _source_checked(env, case, result):
    assert result['source_host'] == env.host(SRC)
    assert result['memory_total'] > 0


def _incoming(env, case, result):
    guest = case.guest(DST)
    assert guest['power_state'] == states.POWER_PAUSED
    assert guest['live_migration']['role'] == 'destination'
    assert result['network_info'] == env.host_state(DST)['networks'][
        case.uuid]


def _copied(env, case, result):
    mark = case.guest(SRC)['live_migration']
    assert mark['copied'] and result['memory_remaining'] == 0
    assert case.migration()['status'] == states.MIGRATION_RUNNING


def _source_runs_again(env, case, before):
    guest = case.guest(SRC)
    assert guest['power_state'] == states.RUNNING
    assert 'live_migration' not in guest


def _taken_over(env, case, result):
    guest = case.guest(DST)
    assert result == guest['power_state'] == states.RUNNING
    assert 'live_migration' not in guest


def _switched(env, case, result):
    row = case.row()
    assert row['host'] == env.host(DST)
    assert row['networks'] == case.store['dest_prepared']['network_info']
    assert case.allocations() == [(case.uuid, env.host(DST))]


def _source_cleaned(env, case, result):
    assert case.guest(SRC) is None and case.guest(DST) is not None


def _completed(env, case, result):
    migration = case.migration()
    assert (migration['status'], migration['memory_remaining']) == (
        states.MIGRATION_COMPLETED, 0)
    row = case.row()
    assert (row['task_state'], row['progress'], row['vm_state']) == (
        None, 100, states.ACTIVE)


HOSTS_AND_CLAIMS = ('allocations', 'images') + tuple(
    'host:' + r for r in harness.HOSTS)

STEPS = [
    harness.Step(id='ClaimLiveMigrationDestination',
                 make=live_migrate.ClaimLiveMigrationDestination,
                 setup=migrating, check=_claimed, undone=HOSTS_AND_CLAIMS),
    harness.Step(id='CheckLiveMigrationDestination',
                 make=live_migrate.CheckLiveMigrationDestination,
                 setup=up_to(live_migrate.CheckLiveMigrationDestination),
                 check=_dest_checked, undone=harness.NO_REVERT,
                 fault=lambda case: (
                     DST, 'check_can_live_migrate_destination')),
    harness.Step(id='CheckLiveMigrationSource',
                 make=live_migrate.CheckLiveMigrationSource,
                 setup=up_to(live_migrate.CheckLiveMigrationSource),
                 check=_source_checked, undone=harness.NO_REVERT,
                 fault=lambda case: (SRC, 'check_can_live_migrate_source')),
    harness.Step(id='PreLiveMigration', make=live_migrate.PreLiveMigration,
                 setup=up_to(live_migrate.PreLiveMigration),
                 check=_incoming,
                 fault=lambda case: (DST, 'pre_live_migration')),
    harness.Step(id='LiveMigrationOnSource',
                 make=live_migrate.LiveMigrationOnSource,
                 setup=up_to(live_migrate.LiveMigrationOnSource),
                 check=_copied, undone=HOSTS_AND_CLAIMS,
                 after_revert=_source_runs_again,
                 fault=lambda case: (SRC, 'live_migration')),
    harness.Step(id='CommitToDestination',
                 make=live_migrate.CommitToDestination,
                 setup=up_to(live_migrate.CommitToDestination),
                 check=_status(states.MIGRATION_POST_MIGRATING),
                 undone=harness.NO_REVERT),
    harness.Step(id='RollForward', make=live_migrate.RollForward,
                 setup=up_to(live_migrate.PostLiveMigrationAtDestination),
                 check=harness.returns(1),
                 undone=harness.NO_REVERT,
                 claim_checked=False),  # counts attempts, reads nothing
    harness.Step(id='PostLiveMigrationAtDestination',
                 make=live_migrate.PostLiveMigrationAtDestination,
                 setup=up_to(live_migrate.PostLiveMigrationAtDestination),
                 check=_taken_over, undone=harness.NO_REVERT,
                 fault=lambda case: (
                     DST, 'post_live_migration_at_destination')),
    harness.Step(id='SwitchInstanceHost',
                 make=live_migrate.SwitchInstanceHost,
                 setup=up_to(live_migrate.SwitchInstanceHost),
                 check=_switched, undone=harness.NO_REVERT),
    harness.Step(id='PostLiveMigrationAtSource',
                 make=live_migrate.PostLiveMigrationAtSource,
                 setup=up_to(live_migrate.PostLiveMigrationAtSource),
                 check=_source_cleaned, undone=harness.NO_REVERT,
                 same_result=False,
                 fault=lambda case: (SRC, 'post_live_migration')),
    harness.Step(id='FinishLiveMigration',
                 make=live_migrate.FinishLiveMigration,
                 setup=up_to(live_migrate.FinishLiveMigration),
                 check=_completed, undone=harness.NO_REVERT),
]

globals().update(harness.contract_tests(STEPS))


@pytest.mark.parametrize('step', [live_migrate.ClaimLiveMigrationDestination,
                                  live_migrate.PreLiveMigration,
                                  live_migrate.LiveMigrationOnSource])
def test_reverts_past_the_point_of_no_return_undo_nothing(env, step):
    case = up_to(live_migrate.PostLiveMigrationAtDestination)(env)
    before = env.snapshot(case)
    harness.revert(step(), case, None)
    assert env.snapshot(case) == before


def test_an_abort_before_the_copy_stops_the_flow(env):
    case = up_to(live_migrate.LiveMigrationOnSource)(env)
    migration_records.set_status(case.params['migration_uuid'],
                                 states.MIGRATION_CANCELLED)
    with pytest.raises(exception.MigrationAborted):
        harness.execute(live_migrate.LiveMigrationOnSource(), case)
    assert 'live_migration' not in case.guest(SRC)


def test_an_abort_during_the_copy_stops_the_commit(env):
    case = up_to(live_migrate.CommitToDestination)(env)
    migration_records.set_status(case.params['migration_uuid'],
                                 states.MIGRATION_CANCELLED)
    with pytest.raises(exception.MigrationAborted):
        harness.execute(live_migrate.CommitToDestination(), case)


def test_a_failed_rollback_ends_the_migration_in_error(env):
    case = up_to(live_migrate.CommitToDestination)(env)
    env.inject(SRC, 'rollback_live_migration', when='before')
    with pytest.raises(exception.InjectedFault):
        harness.revert(live_migrate.LiveMigrationOnSource(), case, None)
    assert case.migration()['status'] == states.MIGRATION_ERROR


@pytest.mark.parametrize('make', [live_migrate.RollForward,
                                  shelve.OffloadRollForward])
def test_roll_forward_retries_until_preempted(make):
    # Live migration's last steps; an offload past the guest's destroy.
    task = make()
    other = retry.History([(1, {'x': harness.failure()})])
    assert task.on_failure(other) == retry.RETRY
    preempted = retry.History([(1, {'x': harness.failure(
        exception.Preempted(task_id='t', instance_uuid='i'))})])
    assert task.on_failure(preempted) == retry.REVERT_ALL
