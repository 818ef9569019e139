"""One crash case from start to verdict.

1. Copy the template state directory; with a rollback case, arm the
   recipe's faults in the fake hosts (:data:`cases.FAULT`) or the
   failure of the flow's last step (:data:`cases.LAST`).
2. Start the all-in-one with the case's failpoint armed (``=kill``), send
   the recipe's request, and wait until the process SIGKILLs itself there
   (a case whose failpoint is never reached fails: its recipe or the flow
   changed).
3. For a crash during recovery, start it again with the second failpoint
   armed and wait for that death too.
4. Start it unarmed (the faults stay: a rollback goes on rolling back),
   wait until nothing is left to do, and check: the flow's end (SUCCESS
   or REVERTED, as the resume policy says), its action's result (and
   after a success a Success event of each step), the server's status,
   the statuses seen meanwhile (never UNKNOWN), :func:`tests.crash.
   checks.problems` and the driver calls.
"""

import dataclasses
import signal

from orchestrator.conductor import audit
from orchestrator import failpoints

from tests.crash import cases
from tests.crash import checks
from tests.crash import harness
from tests.crash import recipes
from tests.functional.systems import free_port
from tests.waiting import wait_for

#: Seconds a failpoint has to be reached after the request.
KILL_TIMEOUT_S = 60
#: Seconds the recovery has to settle.
RECOVERY_TIMEOUT_S = 120


@dataclasses.dataclass
class Result:
    """What a case found (for assertions beyond the common checks)."""

    server_id: str
    outcome: str
    server: dict
    flow_store: dict
    aio: harness.AllInOneProcess


def _env(case, module, recipe, kill_at=None):
    """The all-in-one's environment: the failpoint ``kill_at`` armed to
    kill; with a :data:`cases.LAST` rollback, the flow's last step armed
    to fail (at every start: the failure stays, as the faults do)."""
    armed = []
    if case.rollback == cases.LAST:
        armed.append('%s=%s' % (cases.last_step_failure(module, recipe),
                                failpoints.RAISE))
    interrupt = recipe.interrupts.get(case.rollback)
    if interrupt is not None and interrupt.hold:
        armed.append('%s=%s' % (interrupt.hold, failpoints.RAISE))
    if kill_at:
        armed.append('%s=%s' % (kill_at, failpoints.KILL))
    return {failpoints.ENV_VAR: ','.join(armed)} if armed else {}


def _die_at(aio, failpoint):
    code = aio.wait_exit(KILL_TIMEOUT_S)
    assert code == -signal.SIGKILL, (
        'the all-in-one was not killed at %s (exit status %s); the '
        'failpoint was never reached. Log:\n%s'
        % (failpoint, code, aio.log()))


def _new_instance(aio, known):
    data = checks.read_db(aio)
    fresh = [i['uuid'] for i in data['instances'] if i['uuid'] not in known]
    return fresh[0] if fresh else None


def _audit_of(case, flow_row, data, outcome):
    """The flow's action ended as the flow did; after a success, each of
    its steps has a Success event."""
    found = []
    action_id = checks.flow_store(flow_row).get('action_id')
    (action,) = [a for a in data['actions'] if a['id'] == action_id]
    recipe = recipes.RECIPES[case.flow]
    result = recipe.action_result(
        None if outcome == cases.SUCCESS else case.rollback or cases.FAULT)
    if action['result'] != result:
        found.append('the action %s ended %s, expected %s' % (
            action['action'], action['result'], result))
    if outcome == cases.SUCCESS:
        succeeded = {e['event'] for e in data['events']
                     if e['action_id'] == action_id
                     and e['result'] == 'Success'}
        flow = recipes.flow_modules()[case.flow].get_flow()
        missing = [e for e in audit.step_events(flow)
                   if e not in succeeded]
        if missing:
            found.append('steps without a Success event: %s' % missing)
    return found


def _released_problems(case, recipe, aio, data, server_id, start_status,
                       known_flows, known_actions):
    """A request killed between its claim and its record: no flow ran,
    the server is as it was (a boot's is ERROR), the request's action
    ended in Error saying nothing was done, and everything else holds."""
    found = []
    flows = [f for f in data['flows'] if f['uuid'] not in known_flows
             and f['name'] == case.flow
             and checks.flow_store(f).get('instance_uuid') == server_id]
    if flows:
        found.append('a flow ran for a request never handed over: %s'
                     % flows)
    expected = start_status or 'ERROR'
    server = aio.server(server_id)
    shown = server['status'] if server else None
    if shown != expected:
        found.append('the server is %s, expected %s' % (shown, expected))
    new = [a for a in data['actions'] if a['id'] not in known_actions
           and a['instance_uuid'] == server_id]
    if not new or new[-1]['result'] != 'Error' or 'nothing was done' \
            not in (new[-1]['message'] or ''):
        found.append('the request\'s action did not end in Error saying '
                     'nothing was done: %s' % new)
    found.extend(checks.problems(
        aio, data, error_ok={server_id} if expected == 'ERROR' else ()))
    return found


def run(case, template_dir, servers, launcher, workdir, keep=False):
    """Run ``case``; assert everything; return a :class:`Result` (with
    ``keep`` the all-in-one is left running in it, else killed)."""
    recipe = recipes.RECIPES[case.flow]
    state_dir = str(workdir / 'state')
    recipes.copy_template(template_dir, state_dir)
    aio = harness.AllInOneProcess(state_dir, free_port(), launcher=launcher)
    try:
        return _run(case, recipe, servers, aio, keep)
    finally:
        if not keep:
            aio.close()


def _run(case, recipe, servers, aio, keep):
    config = recipe.all_config()
    module = recipes.flow_modules()[case.flow]
    interrupt = recipe.interrupts.get(case.rollback)
    if case.rollback == cases.FAULT:
        aio.faults(recipe.fail)
    elif interrupt is not None and interrupt.faults:
        aio.faults(interrupt.faults)
    aio.start(env=_env(case, module, recipe, case.failpoint), config=config,
              hosts=recipe.hosts)
    recipe.prepare(aio)
    data = checks.read_db(aio)
    known_instances = {i['uuid'] for i in data['instances']}
    known_flows = {f['uuid'] for f in data['flows']}
    known_actions = {a['id'] for a in data['actions']}
    before = checks.total_calls(aio.calls())

    server_id = servers.get(recipe.server)
    start_status = aio.server(server_id)['status'] if server_id else None
    resp = recipe.send(aio, server_id)
    if resp is not None:
        assert resp.status_code in recipe.expect, (resp.status_code,
                                                   resp.text)
    if interrupt is not None:
        resp = interrupt.send(aio, server_id)
        if resp is not None:
            assert resp.status_code < 300, (resp.status_code, resp.text)
    _die_at(aio, case.failpoint)
    at_kill = checks.total_calls(aio.calls())
    if server_id is None:
        server_id = _new_instance(aio, known_instances)
        assert server_id, 'the boot request made no instance'

    if case.second:
        aio.start(env=_env(case, module, recipe, case.second),
                  config=config, hosts=recipe.hosts, wait=False)
        _die_at(aio, case.second)

    aio.start(env=_env(case, module, recipe), config=config,
              hosts=recipe.hosts)
    seen = set()

    def settled():
        server = aio.server(server_id)
        if server is not None:
            seen.add(server['status'])
        return checks.settled(aio)

    try:
        wait_for(settled, timeout=RECOVERY_TIMEOUT_S, interval=0.1,
                 what='the recovery of %s to settle' % case.id)
    except AssertionError as e:
        raise AssertionError('%s:\n%s\n--- log tail:\n%s' % (
            e, '\n'.join(checks.problems(aio)), aio.log(6000))) from None
    after = checks.total_calls(aio.calls())

    data = checks.read_db(aio)
    if cases.expected_outcome(case) == cases.RELEASED:
        found = _released_problems(case, recipe, aio, data, server_id,
                                   start_status, known_flows,
                                   known_actions)
        found.extend(checks.call_problems(
            recipe, None, cases.RELEASED, case.kills, before, at_kill,
            after, reconciled=checks.reconciliation_calls(
                data, known_actions)))
        assert not found, '%s:\n%s\n--- log tail:\n%s' % (
            case.id, '\n'.join(found), aio.log(3000))
        return Result(server_id=server_id, outcome=cases.RELEASED,
                      server=aio.server(server_id), flow_store={}, aio=aio)
    mine = [f for f in data['flows'] if f['uuid'] not in known_flows
            and f['name'] == case.flow
            and checks.flow_store(f).get('instance_uuid') == server_id]
    assert len(mine) == 1, ('expected one %s flow on %s, found %s'
                            % (case.flow, server_id, mine))
    outcome = mine[0]['state']
    expected = cases.expected_outcome(case)
    status = recipe.done if expected == cases.SUCCESS \
        else recipe.reverted_status(case.rollback or cases.FAULT)
    server = aio.server(server_id)

    found = []
    if outcome != expected:
        found.append('the flow ended %s, expected %s' % (outcome, expected))
    shown = server['status'] if server else None
    if shown != status:
        found.append('the server is %s, expected %s' % (shown, status))
    if 'UNKNOWN' in seen:
        found.append('the server showed UNKNOWN during the recovery')
    found.extend(_audit_of(case, mine[0], data, outcome))
    found.extend(checks.problems(
        aio, data, error_ok={server_id} if status == 'ERROR' else ()))
    found.extend(checks.call_problems(
        recipe, case.rollback, outcome, case.kills, before, at_kill, after,
        reconciled=checks.reconciliation_calls(data, known_actions)))
    assert not found, '%s:\n%s\n--- log tail:\n%s' % (
        case.id, '\n'.join(found), aio.log(3000))
    return Result(server_id=server_id, outcome=outcome, server=server,
                  flow_store=checks.flow_store(mine[0]), aio=aio)
