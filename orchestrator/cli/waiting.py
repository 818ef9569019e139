"""What ``--wait`` looks at, and when an operation has ended.

An :class:`Operation` is one accepted request on one server: its id, the
request id the API answered with, and whether it deletes the server.
:func:`observe` reads what the API says of it now (an
:class:`Observation`): the server (Compute API), the request's action,
the server's faults and the action's flow (console API, when the API
serves it). :func:`verdict` decides whether it has ended, and how:

* a delete ends when the server is gone (404), or soft-deleted once its
  action finished; it fails if the server ends in ERROR;
* any other operation ends when no task runs on the server any more (and
  it is no longer BUILD) and, when the console shows the request's
  action, once that action has finished; it failed if the server is in
  ERROR or if the action's flow ended REVERTED or FAILURE. Without a
  flow to ask (no console, or a request that runs none: lock, an abort)
  a status outside ``Operation.expect`` is a failure as well. The
  message of a failure is the newest fault recorded since the action
  started, else the failed step's.

:func:`wait` polls until the verdict or the timeout.
"""

import dataclasses
import datetime
import time

from orchestrator.cli import exits
from orchestrator.cli import flowtree

FAILED_FLOW_STATES = ('REVERTED', 'FAILURE')
#: Server statuses that make progress (the server's ``progress`` means
#: something only then).
PROGRESS_STATUSES = ('BUILD', 'RESIZE', 'MIGRATING', 'REBUILD')


@dataclasses.dataclass
class Operation:
    server_id: str
    request_id: str = None
    what: str = 'operation'
    deleting: bool = False
    #: Statuses that mean "done as asked" when no flow can say.
    expect: tuple = ()
    server_name: str = None

    def title(self):
        """'stop vm1 (ID)': what is waited for."""
        if self.server_name:
            return '%s %s (%s)' % (self.what, self.server_name,
                                   self.server_id)
        return '%s %s' % (self.what, self.server_id)


@dataclasses.dataclass
class Observation:
    """What the API says of an operation at one instant."""

    server: dict = None
    action: dict = None
    faults: list = dataclasses.field(default_factory=list)
    flow: dict = None
    elapsed: float = 0.0

    @property
    def status(self):
        return 'DELETED' if self.server is None else self.server['status']

    @property
    def task_state(self):
        return (self.server or {}).get('OS-EXT-STS:task_state')

    @property
    def step(self):
        """The flow's current step ('' without a flow)."""
        return flowtree.current_step((self.flow or {}).get('tree'))

    @property
    def fraction(self):
        """0..1: the server's progress while it makes some, else the
        share of the flow's steps done (None: nothing to show)."""
        progress = (self.server or {}).get('progress')
        if self.status in PROGRESS_STATUSES and progress:
            return min(progress, 100) / 100.0
        if self.flow and self.flow.get('tree'):
            if self.flow.get('final'):
                return 1.0
            return flowtree.fraction_done(self.flow['tree'])
        return None

    def key(self):
        """What a display shows; a new key is worth a new line."""
        fraction = self.fraction
        return (self.status, self.task_state, self.step,
                None if fraction is None else int(fraction * 20))


def parse_time(text):
    """An aware datetime of an ISO 8601 string (naive means UTC)."""
    if not text:
        return None
    value = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def observe(api, op, started):
    """An :class:`Observation` of ``op`` now (``started``: its
    ``time.monotonic()`` start)."""
    obs = Observation(server=api.server_or_none(op.server_id),
                      elapsed=time.monotonic() - started)
    if obs.server is None or not op.request_id:
        return obs
    try:
        record = api.console_server(op.server_id)
    except exits.Refused:
        record = None  # no console for this caller: the Compute API only
    if record is None:
        return obs
    obs.faults = record.get('faults') or []
    for action in record.get('actions') or ():
        if action.get('request_id') == op.request_id:
            obs.action = action
            break
    if obs.action and obs.action.get('flow_uuid'):
        try:
            obs.flow = api.flow(obs.action['flow_uuid'])
        except exits.Refused:
            pass
    return obs


def _new_faults(obs):
    start = parse_time(obs.action.get('start_time'))
    return [f for f in obs.faults
            if start is None or (parse_time(f.get('created')) or start)
            >= start]


def failure_text(obs):
    """Why it failed, in one line: the newest fault, else the failed
    step's failure."""
    fault = (obs.server or {}).get('fault') or {}
    if obs.action is not None:
        fresh = _new_faults(obs)
        if fresh:
            fault = fresh[0]
    if fault.get('message'):
        return fault['message']
    for step in flowtree.steps((obs.flow or {}).get('tree')):
        if step.get('failure'):
            return '%s: %s' % (step['name'], step['failure'])
    return ''


def verdict(op, obs):
    """None while ``op`` runs; else (ended as asked: bool, one line)."""
    if op.deleting:
        if obs.server is None:
            return True, 'deleted'
        if obs.task_state is None and obs.status == 'ERROR':
            return False, 'the delete failed: %s' % failure_text(obs)
        if obs.task_state is None and obs.status == 'SOFT_DELETED':
            return True, 'soft-deleted'
        return None
    if obs.server is None:
        return False, 'the server is gone'
    if obs.task_state is not None or obs.status == 'BUILD':
        return None
    if obs.action is not None and not obs.action.get('finish_time'):
        return None
    failed = obs.status == 'ERROR'
    if obs.flow is not None:
        failed = failed or obs.flow.get('state') in FAILED_FLOW_STATES
    elif not failed and op.expect and obs.status not in op.expect:
        return False, '%s ended in status %s, not %s' % (
            op.what, obs.status, ' or '.join(op.expect))
    if failed:
        return False, '%s failed: %s' % (op.what, failure_text(obs)
                                          or 'status %s' % obs.status)
    return True, '%s done: %s' % (op.what, obs.status)


def wait(api, op, timeout, on_change, interval=0.5):
    """Poll ``op`` until it ends or ``timeout`` seconds pass; call
    ``on_change(observation)`` whenever what a display shows changes.
    Returns (exit code, last observation, one line)."""
    started = time.monotonic()
    last_key = None
    while True:
        obs = observe(api, op, started)
        if obs.key() != last_key:
            on_change(obs)
            last_key = obs.key()
        ended = verdict(op, obs)
        if ended is not None:
            ok, message = ended
            return (exits.OK if ok else exits.FAILED), obs, message
        if obs.elapsed >= timeout:
            return exits.TIMEOUT, obs, (
                'timed out after %gs waiting for %s (status %s, task %s); '
                'it goes on' % (timeout, op.title(), obs.status,
                                obs.task_state or '-'))
        time.sleep(interval)
