"""Deadlines on transient states, through the whole all-in-one.

A flow stuck on its host past its task_state's deadline is decided by the
conductor's watchdog long before the host call's RPC timeout: a stop whose
guest still runs counts as reverted (ACTIVE), a build goes to ERROR, each
with a fault and the decision audited; the stuck flow, when it wakes,
writes nothing and boot's undo still leaves no guest and no allocation.
An instance left in a task_state with no flow at all is decided too.
"""

import datetime
import time
import uuid

import pytest
import sqlalchemy as sa

from orchestrator import states
from orchestrator.conductor import deadlines
from orchestrator.db import actions
from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

from tests.functional import api_helpers as h
from tests.functional.systems import start_all_in_one
from tests.waiting import wait_for

DEADLINE_S = 2
#: The fixture's compute RPC timeout (tests/functional/systems.py): a
#: decision must come well before a stuck host call would time out.
RPC_TIMEOUT_S = 10
#: A host call that answers only after the deadline (and the decision).
HOST_LATE_S = 6


@pytest.fixture
def deadline_system(conf, tmp_path):
    """The all-in-one serving HTTP, with 2 s deadlines for powering-off
    and spawning and the watchdog looking every 0.3 s."""
    conf.set_override('task_deadlines_s',
                      {states.POWERING_OFF: DEADLINE_S,
                       states.SPAWNING: DEADLINE_S}, group='conductor')
    conf.set_override('deadline_check_interval_s', 0.3, group='conductor')
    conf.set_override('deadline_host_timeout_s', 2, group='conductor')
    node = start_all_in_one(conf, tmp_path, serve_api=True)
    yield node
    node.stop()


def _action(server_id, name):
    found = [a for a in actions.list_for_instance(server_id)
             if a['action'] == name]
    assert len(found) == 1, found
    return found[0]


def _jobs_left():
    with session.reader() as sess:
        return sess.execute(sa.select(sa.func.count()).select_from(
            models.Job).where(models.Job.trashed.is_(False))).scalar_one()


def _guest_power(system, server_id):
    """The power state of the server's guest; None when no host has it."""
    _host, guest = h.guest(system, server_id)
    return None if guest is None else guest['power_state']


def test_stop_hanging_on_its_host_is_reverted_at_its_deadline(
        deadline_system):
    system = deadline_system
    server_id = h.boot(system)
    h.inject(system, {'power_off': 'hang'})
    started = time.monotonic()
    resp = h.api(system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None})
    assert resp.status_code == 202
    server = h.wait_stable(system, server_id, 'ACTIVE')
    elapsed = time.monotonic() - started
    assert DEADLINE_S <= elapsed < RPC_TIMEOUT_S - 3, elapsed
    assert server['OS-EXT-STS:vm_state'] == states.ACTIVE
    assert h.calls(system, 'power_off') == 1
    assert _guest_power(system, server_id) == states.RUNNING
    message = ('stop passed its deadline of 2 s in task_state '
               'powering-off')
    assert instances.latest_fault(server_id)['message'] == message
    stop = _action(server_id, 'stop')
    assert (stop['result'], stop['message']) == (states.RESULT_ERROR,
                                                 message)
    decided = _action(server_id, deadlines.DEADLINE_ACTION)
    assert decided['result'] == states.RESULT_SUCCESS
    assert decided['message'].startswith(message)
    assert 'guest running as vm_state active expects: task reverted' in (
        decided['message'])
    assert decided['task_id'] == instances.get(server_id)['task_id']
    # The server is free again although its host still hangs in the old
    # power_off: a new stop claims it and runs.
    h.inject(system, {})
    resp = h.api(system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None})
    assert resp.status_code == 202, resp.text
    h.wait_stable(system, server_id, 'SHUTOFF')
    assert _guest_power(system, server_id) == states.SHUTDOWN


def test_stuck_flow_waking_later_does_not_hide_the_decision(
        deadline_system):
    # The host answers (with a failure) only after the decision: the stop
    # flow then reverts as a preempted flow and its audit listener ends
    # the action again; the decision stays what the audit shows.
    system = deadline_system
    server_id = h.boot(system)
    h.inject(system, {'power_off': {'fault': 'raise',
                                   'delay_s': HOST_LATE_S}})
    resp = h.api(system, 'POST', '/v2.1/servers/%s/action' % server_id,
                json={'os-stop': None})
    assert resp.status_code == 202
    h.wait_stable(system, server_id, 'ACTIVE')
    decided_task_id = instances.get(server_id)['task_id']
    stop = _action(server_id, 'stop')

    def flow_ended():
        events = {e['event']: e for e in actions.events_for(stop['id'])}
        revert = events.get('ClearTaskOnRevert:revert')
        return revert and revert['finish_time'] and _jobs_left() == 0

    wait_for(flow_ended, timeout=RPC_TIMEOUT_S + 10,
             what='the stuck stop flow to end')
    message = ('stop passed its deadline of 2 s in task_state '
               'powering-off')
    stop = _action(server_id, 'stop')
    assert (stop['result'], stop['message']) == (states.RESULT_ERROR,
                                                 message)
    assert instances.latest_fault(server_id)['message'] == message
    row = instances.get(server_id)
    assert (row['vm_state'], row['task_state'], row['task_id']) == (
        states.ACTIVE, None, decided_task_id)
    assert _guest_power(system, server_id) == states.RUNNING


def test_boot_whose_spawn_hangs_ends_in_error_leaving_nothing(
        deadline_system):
    system = deadline_system
    # The spawn returns (and creates the guest) only after the deadline.
    h.inject(system, {'spawn': {'delay_s': HOST_LATE_S}})
    flavor = h.api(system, 'GET', '/v2.1/flavors').json()['flavors'][0]
    image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]
    started = time.monotonic()
    resp = h.api(system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'stuck', 'flavorRef': flavor['id'],
        'imageRef': image['id'], 'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    server = h.wait_stable(system, server_id, 'ERROR')
    assert time.monotonic() - started < RPC_TIMEOUT_S
    message = 'create passed its deadline of 2 s in task_state spawning'
    assert server['fault']['message'] == message
    # Decided while the spawn still ran: the flow has not woken yet.
    assert allocations.list_for_instance(server_id)
    assert _guest_power(system, server_id) is None
    # Once the spawn returns, the preempted flow undoes its host steps.
    wait_for(lambda: (h.calls(system, 'destroy') >= 1
                      and _guest_power(system, server_id) is None
                      and not allocations.list_for_instance(server_id)
                      and _jobs_left() == 0),
             timeout=RPC_TIMEOUT_S + 10,
             what='the guest destroyed and the allocation released')
    assert h.host_leftovers(system, server_id) == []
    server = h.wait_stable(system, server_id, 'ERROR')
    assert server['fault']['message'] == message
    create = _action(server_id, 'create')
    assert (create['result'], create['message']) == (states.RESULT_ERROR,
                                                     message)
    assert _action(server_id, deadlines.DEADLINE_ACTION)['result'] == (
        states.RESULT_ERROR)


def _strand(server_id, vm_state, task_state, new_task=True):
    """Leave the instance in a task no flow runs, deadline passed (under
    a task_id no action names, unless ``new_task`` is False)."""
    values = {'vm_state': vm_state, 'task_state': task_state,
              'task_deadline_at': models.utcnow() - datetime.timedelta(
                  seconds=1)}
    if new_task:
        values['task_id'] = str(uuid.uuid4())
    with session.writer() as sess:
        sess.execute(sa.update(models.Instance).where(
            models.Instance.uuid == server_id).values(**values))


def test_instances_in_a_task_with_no_flow_get_a_decision(deadline_system):
    system = deadline_system
    agrees = h.boot(system, 'agrees')
    disagrees = h.boot(system, 'disagrees')
    _strand(agrees, states.ACTIVE, states.POWERING_OFF)
    # Stopped in the database, running on its host.
    _strand(disagrees, states.STOPPED, states.POWERING_ON)
    orphan, _action_row = instances.create(
        {'display_name': 'orphan', 'project_id': 'p', 'user_id': 'u',
         'flavor_id': '1', 'flavor': {'flavorid': '1', 'vcpus': 1,
                                      'memory_mb': 512, 'root_gb': 1},
         'vcpus': 1, 'memory_mb': 512, 'root_gb': 1,
         'image_ref': 'image'},
        {'request_id': 'req-orphan', 'user_id': 'u', 'project_id': 'p'})
    # Created, its create action open, but no job was ever posted.
    _strand(orphan['uuid'], states.BUILDING, states.SCHEDULING,
            new_task=False)
    h.wait_stable(system, agrees, 'ACTIVE')
    h.wait_stable(system, disagrees, 'ERROR')
    wait_for(lambda: instances.get(orphan['uuid'])['task_state'] is None,
             timeout=10, what='the orphan decided')
    assert instances.get(orphan['uuid'])['vm_state'] == states.ERROR
    expected = {
        agrees: ('task passed its deadline of 2 s in task_state '
                 'powering-off', states.RESULT_SUCCESS),
        disagrees: ('task passed its deadline of 900 s in task_state '
                    'powering-on', states.RESULT_ERROR),
        orphan['uuid']: ('create passed its deadline of 900 s in '
                         'task_state scheduling', states.RESULT_ERROR),
    }
    for server_id, (message, result) in expected.items():
        assert instances.latest_fault(server_id)['message'] == message
        decided = _action(server_id, deadlines.DEADLINE_ACTION)
        assert decided['result'] == result
        assert decided['message'].startswith(message)
    assert 'guest running where vm_state stopped expects' in _action(
        disagrees, deadlines.DEADLINE_ACTION)['message']
    # A decision leaves the guests alone.
    assert _guest_power(system, agrees) == states.RUNNING
    assert _guest_power(system, disagrees) == states.RUNNING
