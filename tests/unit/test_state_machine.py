"""The rules of orchestrator.state_machine, walked exhaustively.

Every (vm_state, task_state-or-None, action) combination is checked
against the table's definition and against the invariants DESIGN.md states
(delete always possible, one task at a time, deleting never shown as
ACTIVE or BUILD, ...).
"""

import itertools

from automaton import exceptions as automaton_exc
import pytest

from orchestrator import state_machine as sm
from orchestrator import states as s

ALL_TASKS = sorted(s.TASK_STATES) + [None]
ALL_PAIRS = list(itertools.product(sorted(s.VM_STATES), ALL_TASKS))
LIVE_VM_STATES = s.VM_STATES - s.GONE_VM_STATES

# Actions that may start while another task runs, and on which tasks.
# Everything else needs task_state NULL: one task at a time.
PREEMPTING = {
    sm.DELETE: s.TASK_STATES - {s.DELETING},
    sm.FORCE_DELETE: s.TASK_STATES,
    sm.RESET_STATE: s.TASK_STATES,
    sm.REBOOT_HARD: s.SOFT_REBOOT_TASK_STATES,
    sm.LIVE_MIGRATE_ABORT: {s.MIGRATING},
}

ADMIN_ONLY = {sm.MIGRATE, sm.LIVE_MIGRATE, sm.LIVE_MIGRATE_ABORT,
              sm.EVACUATE, sm.RESET_STATE, sm.SHELVE_OFFLOAD}

# Beyond 2.1, the newest microversion at which any status appears stands
# for every later one (the map only changes at those versions); 2.999 is
# "whatever the API's maximum becomes".
MICROVERSIONS = sorted({(2, 1), (2, 999)}
                       | set(sm.STATUS_MIN_VERSION.values()))


def _expected_allows(action, vm_state, task_state):
    """The table's definition, read independently of Action.allows."""
    if vm_state not in action.vm_states:
        return False
    if sm.ANY_TASK in action.task_states:
        return True
    return task_state in action.task_states


@pytest.mark.parametrize('name', sorted(sm.ACTIONS))
def test_allows_agrees_with_table_for_every_pair(name):
    action = sm.ACTIONS[name]
    for vm_state, task_state in ALL_PAIRS:
        assert action.allows(vm_state, task_state) == _expected_allows(
            action, vm_state, task_state), (name, vm_state, task_state)


@pytest.mark.parametrize('name', sorted(sm.ACTIONS))
def test_refusal_names_the_offending_state(name):
    action = sm.ACTIONS[name]
    for vm_state, task_state in ALL_PAIRS:
        if action.allows(vm_state, task_state):
            continue
        message = action.refusal(vm_state, task_state)
        assert "'%s'" % name in message, message
        if vm_state not in action.vm_states:
            assert 'vm_state %s' % vm_state in message, message
        else:
            assert 'task_state %s' % task_state in message, message


def test_table_only_names_known_states():
    for action in sm.ACTIONS.values():
        assert action.vm_states <= s.VM_STATES, action.name
        assert action.results <= s.VM_STATES, action.name
        assert action.task_states <= s.TASK_STATES | {None, sm.ANY_TASK}
        assert action.task_state is None or \
            action.task_state in s.TASK_STATES, action.name
        assert action.vm_states and action.results and \
            action.task_states, action.name


def test_delete_is_possible_in_every_live_pair_but_one_delete_wins():
    for vm_state, task_state in ALL_PAIRS:
        live = vm_state in LIVE_VM_STATES
        assert sm.ACTIONS[sm.FORCE_DELETE].allows(vm_state, task_state) \
            == live, (vm_state, task_state)
        assert sm.ACTIONS[sm.DELETE].allows(vm_state, task_state) == (
            live and task_state != s.DELETING), (vm_state, task_state)
        # ... and a second one while it runs joins it (204, nothing
        # started), as Nova answers a repeated delete.
        assert sm.ACTIONS[sm.DELETE].joined(vm_state, task_state) == (
            live and task_state == s.DELETING), (vm_state, task_state)


def test_only_deletes_join_a_running_task():
    """``joins`` is for a repeat of the same request only; no action
    both claims and joins the same pair."""
    joining = {n for n, a in sm.ACTIONS.items() if a.joins}
    assert joining == {sm.DELETE, sm.SOFT_DELETE}
    for action in sm.ACTIONS.values():
        assert not action.joins & action.task_states, action.name
        assert action.joins <= {s.DELETING, s.SOFT_DELETING}, action.name


def test_nothing_is_allowed_on_a_deleted_instance():
    for name, action in sm.ACTIONS.items():
        for task_state in ALL_TASKS:
            assert not action.allows(s.DELETED, task_state), name


@pytest.mark.parametrize('name', sorted(sm.ACTIONS))
def test_one_task_at_a_time(name):
    """An action starts during a task only where the table says it
    preempts (or signals) that task."""
    action = sm.ACTIONS[name]
    preempts = PREEMPTING.get(name, set())
    for vm_state in action.vm_states:
        for task_state in s.TASK_STATES:
            assert action.allows(vm_state, task_state) == (
                task_state in preempts), (name, vm_state, task_state)


def test_admin_only_actions():
    assert {n for n, a in sm.ACTIONS.items() if a.admin_only} == ADMIN_ONLY


def test_requestable_is_every_action_but_create():
    assert sm.REQUESTABLE == frozenset(sm.ACTIONS) - {sm.BOOT}
    assert sm.get_action(sm.STOP) is sm.ACTIONS[sm.STOP]
    with pytest.raises(KeyError):
        sm.get_action('no-such-action')


def test_claims_are_reachable_pairs():
    reachable = sm.reachable_pairs()
    for action in sm.ACTIONS.values():
        if action.task_state is None:
            continue
        for vm_state in action.vm_states:
            assert (vm_state, action.task_state) in reachable, \
                (action.name, vm_state)


def test_reachable_pairs_are_real_states():
    for vm_state, task_state in sm.reachable_pairs():
        assert vm_state in s.VM_STATES
        assert task_state is None or task_state in s.TASK_STATES
    # Every stable state is observable with no task running.
    for vm_state in s.VM_STATES:
        assert (vm_state, None) in sm.reachable_pairs()


@pytest.mark.parametrize('microversion', MICROVERSIONS)
def test_every_reachable_pair_has_a_known_status(microversion):
    for vm_state, task_state in sm.reachable_pairs():
        status = sm.status(vm_state, task_state, microversion)
        assert status in s.STATUSES, (vm_state, task_state, status)
        assert status != s.STATUS_UNKNOWN, (vm_state, task_state)


@pytest.mark.parametrize('microversion', MICROVERSIONS)
def test_deleting_shows_the_status_of_what_the_server_still_is(microversion):
    """While its delete runs a server is shown as what it still is (its
    vm_state's status, task_state deleting), never DELETED before it is
    gone: the clients' waits return on DELETED (openstacksdk's
    wait_for_delete), and a failed delete would bring back a server shown
    DELETED. Never BUILD for a server that was built."""
    for vm_state in LIVE_VM_STATES:
        status = sm.status(vm_state, s.DELETING, microversion)
        assert status == sm.status(vm_state, None, microversion), vm_state
        assert status != s.STATUS_DELETED, vm_state
        if vm_state != s.BUILDING:
            assert status != s.STATUS_BUILD, vm_state
    assert sm.status(s.DELETED, s.DELETING, microversion) == \
        s.STATUS_DELETED


def test_status_of_stable_states():
    expected = {
        s.ACTIVE: s.STATUS_ACTIVE, s.BUILDING: s.STATUS_BUILD,
        s.STOPPED: s.STATUS_SHUTOFF, s.PAUSED: s.STATUS_PAUSED,
        s.SUSPENDED: s.STATUS_SUSPENDED, s.RESCUED: s.STATUS_RESCUE,
        s.RESIZED: s.STATUS_VERIFY_RESIZE,
        s.SOFT_DELETED: s.STATUS_SOFT_DELETED,
        s.DELETED: s.STATUS_DELETED, s.ERROR: s.STATUS_ERROR,
    }
    for vm_state, status in expected.items():
        assert sm.status(vm_state, None) == status, vm_state


def test_unknown_vm_state_shows_unknown():
    assert sm.status('no-such-state', None) == s.STATUS_UNKNOWN


def test_new_status_is_hidden_from_older_clients(monkeypatch):
    """A status introduced at a later microversion is never shown to an
    older client: it sees the fallback (or UNKNOWN when there is none)."""
    monkeypatch.setitem(sm.STATUS_MIN_VERSION, s.STATUS_RESCUE, (2, 50))
    assert sm.status(s.RESCUED, None, (2, 50)) == s.STATUS_RESCUE
    assert sm.status(s.RESCUED, None, (2, 49)) == s.STATUS_UNKNOWN
    monkeypatch.setitem(sm.STATUS_FALLBACK, s.STATUS_RESCUE,
                        s.STATUS_ACTIVE)
    assert sm.status(s.RESCUED, None, (2, 49)) == s.STATUS_ACTIVE
    assert sm.status(s.RESCUED, None, (2, 1)) == s.STATUS_ACTIVE


# -- the vm_state machine --------------------------------------------------
EVENTS = sorted(set(sm.ACTIONS) | {'fail', sm.SYNC_POWER_STATE})


def _machine_accepts(src, dst, event):
    machine = sm.vm_state_machine().copy(shallow=True)
    try:
        machine.initialize(start_state=src)
        machine.process_event('%s:%s' % (event, dst))
    except (automaton_exc.NotFound, automaton_exc.InvalidState):
        return False
    assert machine.current_state == dst
    return True


def test_machine_accepts_exactly_the_edges():
    edges = sm.edges()
    for src, dst in itertools.product(sorted(s.VM_STATES), repeat=2):
        for event in EVENTS:
            assert _machine_accepts(src, dst, event) == (
                (src, dst, event) in edges), (src, dst, event)


def test_edges_follow_the_action_table():
    edges = sm.edges()
    for src, dst, event in edges:
        assert src in s.VM_STATES and dst in s.VM_STATES
        if (src, dst, event) in sm.EXTRA_EDGES:
            continue
        action = sm.ACTIONS[event]
        assert src in action.vm_states and (src, dst) in action.outcomes, \
            (src, dst, event)
    for action in sm.ACTIONS.values():
        for src, dst in action.outcomes:
            assert src in action.vm_states
            assert (src, dst, action.name) in edges
        for src in action.vm_states:
            assert action.results_from(src), (action.name, src)


def test_every_live_state_can_fail_to_error():
    for vm_state in LIVE_VM_STATES - {s.ERROR}:
        assert (vm_state, s.ERROR, 'fail') in sm.edges(), vm_state


def test_deleted_is_terminal():
    assert not [e for e in sm.edges() if e[0] == s.DELETED]
    machine = sm.vm_state_machine().copy(shallow=True)
    with pytest.raises(automaton_exc.InvalidState):
        machine.initialize(start_state=s.DELETED)
    machine.initialize(start_state=s.ACTIVE)
    machine.process_event('%s:%s' % (sm.DELETE, s.DELETED))
    assert machine.terminated


def test_machine_is_frozen():
    with pytest.raises(automaton_exc.FrozenMachine):
        sm.vm_state_machine().add_state('new-state')


def test_may_transition_along_every_edge():
    for src, dst, event in sm.edges():
        assert sm.may_transition(src, dst, event), (src, dst, event)


def test_may_transition_refuses_everything_else():
    edges = sm.edges()
    for src, dst in itertools.product(sorted(s.VM_STATES), repeat=2):
        for event in EVENTS:
            if (src, dst, event) in edges:
                continue
            assert not sm.may_transition(src, dst, event), (src, dst, event)


def test_may_transition_examples():
    assert sm.may_transition(s.ACTIVE, s.STOPPED, sm.STOP)
    assert sm.may_transition(s.STOPPED, s.ACTIVE, sm.START)
    assert sm.may_transition(s.BUILDING, s.ACTIVE, sm.BOOT)
    assert sm.may_transition(s.BUILDING, s.ERROR, 'fail')
    assert sm.may_transition(s.ACTIVE, s.ACTIVE, sm.REBOOT_SOFT)
    assert not sm.may_transition(s.STOPPED, s.STOPPED, sm.START)
    assert not sm.may_transition(s.STOPPED, s.ACTIVE, sm.STOP)
    assert not sm.may_transition(s.DELETED, s.ACTIVE, sm.RESTORE)
    assert not sm.may_transition(s.ACTIVE, s.DELETED, sm.STOP)
    assert not sm.may_transition('no-such-state', s.ACTIVE, sm.START)
    assert not sm.may_transition(s.ACTIVE, s.STOPPED, 'no-such-action')


def test_outcomes_depend_on_where_the_action_started():
    # A snapshot or a live migration never changes the vm_state...
    for vm_state in sm.ACTIONS[sm.SNAPSHOT].vm_states:
        assert sm.ACTIONS[sm.SNAPSHOT].results_from(vm_state) == {vm_state}
    assert not sm.may_transition(s.ACTIVE, s.STOPPED, sm.SNAPSHOT)
    assert not sm.may_transition(s.ACTIVE, s.PAUSED, sm.LIVE_MIGRATE)
    # ...a rebuild keeps the power state, and brings an errored one up.
    assert sm.may_transition(s.STOPPED, s.STOPPED, sm.REBUILD)
    assert not sm.may_transition(s.ACTIVE, s.STOPPED, sm.REBUILD)
    assert sm.may_transition(s.ERROR, s.ACTIVE, sm.REBUILD)
    assert sm.ACTIONS[sm.CONFIRM_RESIZE].results_from(s.RESIZED) == {
        s.ACTIVE, s.STOPPED}
