"""What must hold after a soak, once the all-in-one settled.

:func:`judge` runs each check and returns {check name: [problems]}
(sentences; empty: it holds). The system-wide checks are the crash
suite's (:func:`tests.crash.checks.problems`: flows ended, no job, no
task_state, no UNKNOWN, the invariant of tests/functional/invariants.py,
power states, usage equal to allocations, the audit finished); this
module adds what only a soak knows: the requests it sent.

* answers: every answer is a success, an honest refusal (400, 404, 409)
  or, only around a kill, a 503, a refused connection or a broken one;
* accepted requests: each has its instance action (by request id),
  finished, Success or Error, and an Error has a fault (unless its
  server is gone);
* effects: a server whose last action succeeded shows what that action
  makes (state_machine.ACTIONS results), or is gone after a delete;
* statuses: no client ever saw UNKNOWN, and no read got a 5xx;
* process: threads and RSS of the last all-in-one, idle after the
  workload and idle again after the probe (a short workload without
  kills), did not grow past small bounds.
"""

from flows import catalog
from flows import keys
from orchestrator import state_machine
from orchestrator import states

from tests.crash import checks
from tests.crash import recipes
from tests.soak import actions
from tests.soak import clients

#: A 503, a refused or broken connection this close to a kill (seconds
#: before it, after its restart served) is the kill's.
KILL_MARGIN_S = 2.0
#: Threads the last all-in-one may gain over the probe, idle to idle
#: (a pool started lazily, e.g. the API's 16 workers; with the leak of
#: two threads per operation fixed, 8 were seen over 54 operations).
THREAD_GROWTH_MAX = 16
#: Resident memory it may gain meanwhile (MB).
RSS_GROWTH_MAX_MB = 40.0


#: Plain rows of a query (the crash checks' reader).
_rows = checks._rows


def read_audit(aio):
    """Actions (with request ids and times) and faults."""
    with aio.db().connect() as c:
        return {
            'actions': _rows(c, 'select id, instance_uuid, action, '
                                'request_id, user_id, start_time, '
                                'finish_time, result, message '
                                'from instance_actions order by id'),
            'faults': _rows(c, 'select instance_uuid, code, message, '
                               'created_at from instance_faults '
                               'order by id'),
        }


def _near_kill(request, windows):
    """True when ``request`` overlaps a down window of the all-in-one."""
    for killed, serving in windows:
        end = serving if serving is not None else float('inf')
        if (request.started <= end + KILL_MARGIN_S
                and request.ended >= killed - KILL_MARGIN_S):
            return True
    return False


def answer_problems(requests, windows):
    """Answers that are neither a success nor an honest refusal."""
    found = []
    for r in requests:
        if r.outcome in (clients.ACCEPTED, clients.REFUSED):
            continue
        if r.outcome == clients.ERROR and r.code != 503:
            found.append('answered %d: %s' % (r.code, r.describe()))
        elif not _near_kill(r, windows):
            found.append('%s with no kill near it: %s' % (
                r.code or r.outcome, r.describe()))
    return found


def _preempted_by_a_later_claim(action, actions):
    """True when ``action`` ended because a later accepted request took
    its server (a hard reboot preempts a soft one, a delete any task):
    the server belongs to that request, so no fault is written for the
    first; its message says it was preempted."""
    if '(preempted)' not in (action['message'] or ''):
        return False
    return any(a['instance_uuid'] == action['instance_uuid']
               and a['id'] > action['id']
               and str(a['start_time']) <= str(action['finish_time'])
               for a in actions)


def _joined_a_running_delete(request, actions):
    """True when ``request`` is a DELETE that joined the delete already
    running on its server (204, nothing started, no action of its own:
    state_machine's ``joins``): another request's delete action on that
    server exists, and is itself checked as that request's."""
    return (request.method == 'DELETE' and request.server_id is not None
            and any(a['instance_uuid'] == request.server_id
                    and a['action'] in (state_machine.DELETE,
                                        state_machine.SOFT_DELETE)
                    and a['request_id'] != request.request_id
                    for a in actions))


def _fault_since(faults, instance_uuid, since):
    return any(f['instance_uuid'] == instance_uuid
               and str(f['created_at']) >= str(since) for f in faults)


def accepted_problems(requests, audit, instances):
    """Accepted requests whose action is missing, unfinished, or an
    Error without a fault; returns (problems, uuids concerned)."""
    found, uuids = [], set()
    by_request = {}
    for a in audit['actions']:
        by_request.setdefault(a['request_id'], []).append(a)
    deleted = {i['uuid'] for i in instances if i['deleted']}
    for r in requests:
        if r.outcome != clients.ACCEPTED:
            continue
        mine = [a for a in by_request.get(r.request_id, [])
                if r.server_id in (None, a['instance_uuid'])]
        problem = None
        if not mine and _joined_a_running_delete(r, audit['actions']):
            continue
        if len(mine) != 1:
            problem = 'has %d instance actions' % len(mine)
        else:
            action = mine[0]
            if not action['finish_time']:
                problem = 'its action %s never finished' % action['action']
            elif action['result'] not in (states.RESULT_SUCCESS,
                                          states.RESULT_ERROR):
                problem = 'its action %s ended %r' % (action['action'],
                                                      action['result'])
            elif (action['result'] == states.RESULT_ERROR
                  and action['instance_uuid'] not in deleted
                  and not _preempted_by_a_later_claim(
                      action, audit['actions'])
                  and not _fault_since(audit['faults'],
                                       action['instance_uuid'],
                                       action['start_time'])):
                problem = ('its action %s ended Error (%s) with no fault '
                           'on the server' % (action['action'],
                                              action['message']))
        if problem:
            found.append('accepted request %s' % problem + ': '
                         + r.describe())
            if r.server_id:
                uuids.add(r.server_id)
    return found, uuids


def effect_problems(aio, audit, instances):
    """Servers whose last action succeeded but do not show its effect;
    returns (problems, uuids concerned)."""
    found, uuids = [], set()
    last = {}
    for a in audit['actions']:
        last[a['instance_uuid']] = a
    for instance in instances:
        uuid = instance['uuid']
        action = last.get(uuid)
        if action is None or not action['finish_time']:
            continue
        resp = recipes.api(aio, 'GET', actions.server_path(uuid))
        shown = actions.GONE if resp.status_code == 404 \
            else resp.json()['server']['status']
        if action['result'] != states.RESULT_SUCCESS:
            if shown == actions.GONE and not instance['deleted']:
                found.append('server %s is not found but not deleted'
                             % uuid)
                uuids.add(uuid)
            continue
        expected = actions.expected_statuses(action['action'])
        if expected is None:
            continue
        if (shown != expected if expected == actions.GONE
                else shown not in expected):
            found.append('server %s shows %s after its last action %s '
                         '(%s) succeeded, expected %s' % (
                             uuid, shown, action['action'],
                             action['request_id'],
                             expected if expected == actions.GONE
                             else sorted(expected)))
            uuids.add(uuid)
    return found, uuids


def process_problems(before, after):
    """Growth of the all-in-one from idle after the workload
    (``before``) to idle after the probe (``after``), process.Sample
    each: its pools are as large as they get already, so what it gained
    is what the probe's operations left behind."""
    if before is None or after is None:
        return ['the last all-in-one could not be sampled (before the '
                'probe %s, after it %s)' % (before, after)]
    found = []
    if after.threads - before.threads > THREAD_GROWTH_MAX:
        found.append('threads grew from %d to %d over the probe (more '
                     'than %d)' % (before.threads, after.threads,
                                   THREAD_GROWTH_MAX))
    if after.rss_mb - before.rss_mb > RSS_GROWTH_MAX_MB:
        found.append('RSS grew from %.0f MB to %.0f MB over the probe '
                     '(more than %.0f)' % (before.rss_mb, after.rss_mb,
                                           RSS_GROWTH_MAX_MB))
    return found


def resized_while_stopped(aio, data):
    """The power problems checks.problems reports, wrongly, of servers
    resized (or migrated) while stopped: they wait in VERIFY_RESIZE with
    their guest shut down, as in Nova (its table knows only a resize of
    a running server)."""
    found = set()
    resizes = {}
    for flow in data['flows']:
        store = checks.flow_store(flow)
        if flow['name'] in ('orchestrator-resize-server',
                            'orchestrator-migrate-server'):
            resizes.setdefault(store.get('instance_uuid'), []).append(
                store.get(keys.START_VM_STATE))
    for i in data['instances']:
        if (i['vm_state'] == states.RESIZED and not i['deleted']
                and states.STOPPED in resizes.get(i['uuid'], [])):
            found.add('instance %s is %s but its guest on %s has power '
                      'state %s' % (i['uuid'], i['vm_state'], i['host'],
                                    states.SHUTDOWN))
    return found


def error_ok(data, audit):
    """Instances in vm_state error with a fault (an error told)."""
    told = {f['instance_uuid'] for f in audit['faults']}
    return {i['uuid'] for i in data['instances']
            if i['vm_state'] == states.ERROR and i['uuid'] in told}


def judge(run):
    """Every check of a finished soak :class:`tests.soak.driver.Run`;
    ({check: [problems]}, uuids worth a closer look)."""
    aio = run.aio
    data = checks.read_db(aio)
    audit = read_audit(aio)
    uuids = set()
    results = {}
    results['harness'] = list(run.harness_failures())
    results['settled'] = [
        'not settled %d s after the clients stopped at %.0f s'
        % (run.settings.settle_s, at) for at in run.unsettled]
    results['answers'] = answer_problems(run.requests(),
                                         run.killer.down_windows())
    found, more = accepted_problems(run.requests(), audit,
                                    data['instances'])
    results['accepted requests finished'] = found
    uuids |= more
    found, more = effect_problems(aio, audit, data['instances'])
    results['effects visible'] = found
    uuids |= more
    results['never UNKNOWN, no 5xx on reads'] = [
        'at %.1f s server %s: %s' % odd for odd in run.oddities()]
    system = [p for p in checks.problems(aio, data,
                                         error_ok=error_ok(data, audit))
              if p not in resized_while_stopped(aio, data)]
    results['system (crash checks + invariant)'] = system
    for problem in system:
        uuids |= {i['uuid'] for i in data['instances']
                  if i['uuid'] in problem}
        uuids |= {checks.flow_store(f).get('instance_uuid')
                  for f in data['flows'] if f['uuid'] in problem} - {None}
    results['threads and RSS bounded'] = process_problems(
        run.idle_before, run.final_sample)
    return results, uuids


def describe_instance(aio, uuid):
    """The instance row, its actions, faults and flows (with each step's
    state) as text, for a failure report."""
    lines = ['--- instance %s' % uuid]
    with aio.db().connect() as c:
        for row in _rows(c, 'select * from instances where uuid = :u',
                         u=uuid):
            lines.append('row: %s' % {k: v for k, v in row.items()
                                      if v is not None})
        for a in _rows(c, 'select id, action, request_id, start_time, '
                          'finish_time, result, message from '
                          'instance_actions where instance_uuid = :u '
                          'order by id', u=uuid):
            lines.append('action: %s' % a)
        for f in _rows(c, 'select code, message, created_at from '
                          'instance_faults where instance_uuid = :u '
                          'order by id', u=uuid):
            lines.append('fault: %s' % f)
        for m in _rows(c, 'select uuid, migration_type, status, '
                          'source_compute, dest_compute from migrations '
                          'where instance_uuid = :u order by id', u=uuid):
            lines.append('migration: %s' % m)
        flows = [f for f in _rows(c, 'select uuid, name, state, meta, '
                                     'created_at from flowdetails')
                 if checks.flow_store(f).get('instance_uuid') == uuid]
        for flow in sorted(flows, key=lambda f: str(f['created_at'])):
            store = checks.flow_store(flow)
            atoms = _rows(c, 'select name, state, intention from '
                             'atomdetails where parent_uuid = :u '
                             'order by created_at', u=flow['uuid'])
            lines.append('flow %s %s %s (task %s, action %s): %s' % (
                flow['name'], flow['uuid'], flow['state'],
                store.get('task_id'), store.get('action_id'),
                ', '.join('%s=%s/%s' % (catalog.short_name(a['name']),
                                        a['state'], a['intention'])
                          for a in atoms)))
        for j in _rows(c, 'select uuid, name, owner from jobs'):
            if uuid in str(j['name']):
                lines.append('job: %s' % j)
    return '\n'.join(lines)
