"""What must hold once a crashed all-in-one recovered (read from its
SQLite database, its fake hosts' files and its API).

:func:`settled` says when to look (no job left, no task running, every
action finished); :func:`problems` says what is wrong, as sentences:

* every flow ended SUCCESS or REVERTED, no job left on the board;
* every live instance is stable (task_state NULL, not in error unless
  the rollback says so) and its status is never UNKNOWN;
* the invariant of :mod:`tests.functional.invariants`: each guest on
  exactly its instance's host, no orphan guests, ports or disks, each
  allocation an instance's (or a waiting migration's) flavor, no
  migration in a non-final status;
* each guest's power state (and whether it is in rescue) is what its
  instance's vm_state says;
* every host's usage (the hypervisor API) is the sum of its allocations;
* every instance action finished, with every event finished.

:func:`call_problems` checks the fake driver's call counters against the
recipe: completed steps did not run again, the step in flight ran at
most once more per crash.
"""

import json

import sqlalchemy as sa

from orchestrator import state_machine
from orchestrator import states

from tests.crash import recipes
from tests.functional import invariants

FINAL_FLOW_STATES = ('SUCCESS', 'REVERTED')

#: The guest's power state each stable vm_state means.
POWER_OF_VM_STATE = {
    states.ACTIVE: {states.RUNNING},
    states.STOPPED: {states.SHUTDOWN},
    states.PAUSED: {states.POWER_PAUSED},
    states.SUSPENDED: {states.POWER_SUSPENDED},
    states.RESCUED: {states.RUNNING},
    states.RESIZED: {states.RUNNING},
    states.SOFT_DELETED: {states.SHUTDOWN},
}


def _rows(conn, sql, **params):
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def read_db(aio):
    """Everything the checks read from the database, as plain rows."""
    with aio.db().connect() as c:
        return {
            'flows': _rows(c, 'select uuid, name, state, meta '
                              'from flowdetails'),
            'jobs': _rows(c, 'select uuid, name, owner, trashed from jobs'),
            'instances': _rows(
                c, 'select uuid, host, vm_state, task_state, deleted, '
                   'vcpus, memory_mb, root_gb, ephemeral_gb from instances'),
            'allocations': _rows(
                c, 'select consumer_uuid, instance_uuid, host, vcpus, '
                   'memory_mb, disk_gb from allocations'),
            'migrations': _rows(
                c, 'select uuid, instance_uuid, status, migration_type, '
                   'source_compute, dest_compute, old_flavor '
                   'from migrations'),
            'actions': _rows(
                c, 'select id, instance_uuid, action, finish_time, result, '
                   'message, pending_request from instance_actions'),
            'events': _rows(
                c, 'select action_id, event, start_time, finish_time, '
                   'result from instance_actions_events order by id'),
        }


def flow_store(flow_row):
    meta = flow_row['meta']
    if isinstance(meta, str):
        meta = json.loads(meta)
    return (meta or {}).get('store') or {}


def settled(aio):
    """True once nothing is left to do: no job, no task_state, every
    action finished, no accepted request waiting to be posted."""
    data = read_db(aio)
    return (not data['jobs']
            and not any(i['task_state'] for i in data['instances']
                        if not i['deleted'])
            and all(a['finish_time'] for a in data['actions'])
            and not any(a['pending_request'] for a in data['actions']))


def problems(aio, data=None, error_ok=()):
    """What is wrong with the recovered all-in-one ``aio``.

    :param error_ok: instance uuids that may end in vm_state error (a
        rollback that sends them there).
    """
    data = data or read_db(aio)
    found = []
    for flow in data['flows']:
        if flow['state'] not in FINAL_FLOW_STATES:
            found.append('flow %s %s ended %s' % (
                flow['name'], flow['uuid'], flow['state']))
    for job in data['jobs']:
        found.append('job %s (%s) left on the board (owner %s, trashed '
                     '%s)' % (job['uuid'], job['name'], job['owner'],
                              job['trashed']))
    live = [i for i in data['instances'] if not i['deleted']]
    for instance in live:
        if instance['task_state'] is not None:
            found.append('instance %s still in task_state %s' % (
                instance['uuid'], instance['task_state']))
        if (instance['vm_state'] == states.ERROR
                and instance['uuid'] not in error_ok):
            found.append('instance %s in vm_state error' % instance['uuid'])
    servers = recipes.api(aio, 'GET', '/v2.1/servers/detail').json()[
        'servers']
    for server in servers:
        if server['status'] == 'UNKNOWN':
            found.append('server %s shows UNKNOWN' % server['id'])
    host_states = {host: aio.host_file(host) for host in aio.hosts}
    found.extend(invariants.problems(data['instances'], data['allocations'],
                                     data['migrations'], host_states))
    found.extend(_power_problems(live, host_states))
    found.extend(_usage_problems(aio, data['allocations']))
    found.extend(_audit_problems(data['actions'], data['events']))
    return found


def _power_problems(live, host_states):
    found = []
    for instance in live:
        expected = POWER_OF_VM_STATE.get(instance['vm_state'])
        guest = host_states.get(instance['host'], {}).get(
            'guests', {}).get(instance['uuid'])
        if expected is None or guest is None:
            continue
        if guest['power_state'] not in expected:
            found.append('instance %s is %s but its guest on %s has power '
                         'state %s' % (instance['uuid'],
                                       instance['vm_state'],
                                       instance['host'],
                                       guest['power_state']))
        rescued = guest.get('rescue') is not None
        if rescued != (instance['vm_state'] == states.RESCUED):
            found.append('instance %s is %s but its guest on %s is %sin '
                         'rescue' % (instance['uuid'], instance['vm_state'],
                                     instance['host'],
                                     '' if rescued else 'not '))
    return found


def _usage_problems(aio, allocations):
    found = []
    summed = {}
    for a in allocations:
        used = summed.setdefault(a['host'], {'vcpus': 0, 'memory_mb': 0,
                                             'disk_gb': 0})
        for key in used:
            used[key] += a[key]
    hypervisors = recipes.api(aio, 'GET', '/v2.1/os-hypervisors/detail'
                              ).json()['hypervisors']
    for h in hypervisors:
        used = summed.get(h['hypervisor_hostname'],
                          {'vcpus': 0, 'memory_mb': 0, 'disk_gb': 0})
        shown = {'vcpus': h['vcpus_used'], 'memory_mb': h['memory_mb_used'],
                 'disk_gb': h['local_gb_used']}
        if shown != used:
            found.append('%s shows usage %s, its allocations sum to %s'
                         % (h['hypervisor_hostname'], shown, used))
    return found


def _audit_problems(actions, events):
    found = []
    by_action = {}
    for event in events:
        by_action.setdefault(event['action_id'], []).append(event)
    for action in actions:
        if not action['finish_time'] or not action['result']:
            found.append('action %s (%s of %s) never finished' % (
                action['id'], action['action'], action['instance_uuid']))
        for event in by_action.get(action['id'], []):
            if not event['finish_time'] or not event['result']:
                found.append('event %s of action %s (%s) never finished'
                             % (event['event'], action['id'],
                                action['action']))
    return found


# -- driver calls -------------------------------------------------------


def total_calls(per_host):
    """{method: count} over all hosts, periodic queries aside."""
    out = {}
    for calls in per_host.values():
        for method, count in calls.items():
            if method not in recipes.QUERY_METHODS:
                out[method] = out.get(method, 0) + count
    return out


def _minus(a, b):
    return {m: a.get(m, 0) - b.get(m, 0) for m in set(a) | set(b)
            if a.get(m, 0) - b.get(m, 0)}


def reconciliation_calls(data, known_actions):
    """{driver method: count} of the calls power-state sync made and
    audited on actions not in ``known_actions`` (ids): a guest of a
    deleted instance it destroyed, when a restart let it see the guest
    before the resumed cleanup did. Not a step run again."""
    destroys = sum(1 for a in data['actions']
                   if a['id'] not in known_actions
                   and a['action'] == state_machine.SYNC_POWER_STATE
                   and 'destroyed' in (a['message'] or ''))
    return {'destroy': destroys} if destroys else {}


def call_problems(recipe, rollback, outcome, kills, before, at_kill,
                  after, reconciled=None):
    """Driver calls of a case against its recipe.

    :param rollback: the case's rollback (None, recipes.FAULT or
        recipes.LAST).
    :param outcome: how the flow ended (SUCCESS / REVERTED).
    :param kills: how many times the process was killed.
    :param before: calls before the request; ``at_kill``: when the
        process died the first time; ``after``: once it recovered (each
        {method: count}, see :func:`total_calls`).
    :param reconciled: {method: count} made by reconciliation, not by
        the flows (:func:`reconciliation_calls`).
    """
    found = []
    made = _minus(_minus(after, before), reconciled or {})
    since_kill = _minus(after, at_kill)
    clean = dict(recipe.calls)
    if outcome == 'RELEASED':
        # No flow ran: no driver call at all.
        return ['%s ran %d time(s) for a request no flow ran'
                % (method, count) for method, count in sorted(made.items())
                if count]
    if outcome == 'SUCCESS':
        allowed = clean
        for method, count in sorted(clean.items()):
            if made.get(method, 0) < count:
                found.append('%s ran %d time(s), a clean run makes %d' % (
                    method, made.get(method, 0), count))
    else:
        attempts = recipe.rollback_attempts(rollback or recipes.FAULT)
        undo = recipe.undo_calls(rollback or recipes.FAULT)
        allowed = {m: c * attempts for m, c in clean.items()}
        for method, count in undo.items():
            allowed[method] = allowed.get(method, 0) + count
        if attempts == 1:
            for method in sorted(set(clean) - set(undo)):
                if since_kill.get(method, 0) > 0:
                    found.append(
                        'forward call %s ran again after the crash of a '
                        'flow that was rolled back' % method)
    excess = {}
    for method, count in sorted(made.items()):
        if method not in allowed:
            found.append('unexpected call %s (%d time(s))' % (method, count))
        elif count > allowed[method]:
            excess[method] = count - allowed[method]
    # A step run again repeats each of its calls (once, or as many times
    # as one run makes it): count re-runs per step (the methods it calls
    # together), not per call.
    per_run = recipe.calls_per_run(rollback)
    reruns = {}
    for method, extra in excess.items():
        step = next((group for group in recipe.step_calls
                     if method in group), frozenset([method]))
        runs = -(-extra // per_run.get(method, 1))
        reruns[step] = max(reruns.get(step, 0), runs)
    if sum(reruns.values()) > kills:
        found.append('calls beyond a clean %s: %s, more than one step '
                     'run again per crash (%d crash(es))' % (
                         'run' if outcome == 'SUCCESS' else 'rollback',
                         excess, kills))
    return found
