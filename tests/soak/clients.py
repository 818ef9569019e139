"""The soak's clients: threads sending random actions over HTTP.

Each :class:`Client` has a random.Random of its own (derived from the
seed), picks one of the shared server slots, looks at the server and
asks for an action: mostly one the server's status allows
(:func:`tests.soak.actions.allowed_statuses`), sometimes any (an honest
refusal is an answer too). A server in the middle of a task is
mostly left alone; sometimes (:data:`INTERRUPT_CHANCE`) it gets what
may come in then: a delete, a force delete, a live migration's abort.
An empty slot (its server is gone) gets a boot. Nothing waits for an
operation to finish.

Every request sent is kept as a :class:`Request`: its answer (or the
error that took its place), its request id, its time span. A request
whose connection was refused was never sent (the all-in-one was down):
it is counted apart, as ``down``.
"""

import dataclasses
import threading

import requests

from tests.crash import recipes
from tests.soak import actions

ACCEPTED = 'accepted'
REFUSED = 'refused'
#: The connection broke after the request was sent (a kill, normally):
#: it may or may not have been accepted.
UNKNOWN = 'unknown'
#: 5xx (other than a 503 around a kill, judged by the verdict).
ERROR = 'error'
#: Connection refused: nothing was sent.
DOWN = 'down'

#: Answers that are an honest refusal.
REFUSAL_CODES = (400, 404, 409)
#: Chance that a client picks among every action rather than those the
#: server's status allows.
ANY_ACTION_CHANCE = 0.2
#: Chance that a client acts on a server while a task runs on it (it
#: then picks among what may preempt or follow it: a delete, a force
#: delete, a live migration's abort, ...); else it looks elsewhere.
INTERRUPT_CHANCE = 0.15


@dataclasses.dataclass
class Request:
    """One request a client sent."""

    client: int
    action: str
    server_id: str
    method: str
    path: str
    started: float
    ended: float = None
    code: int = None
    outcome: str = None
    request_id: str = None
    detail: str = ''

    def describe(self):
        return '%s %s %s (client %d, %s, %.1f-%.1f s): %s %s' % (
            self.action, self.method, self.path, self.client,
            self.request_id or 'no request id', self.started,
            self.ended or 0, self.code or self.outcome, self.detail[:300])


def connection_refused(error):
    """True when ``error`` (a requests.ConnectionError) is a refused
    connection: the request never left."""
    text = repr(error)
    return 'NewConnectionError' in text or 'Connection refused' in text


class Slots:
    """The servers clients act on: one id per slot, None when empty."""

    def __init__(self, count):
        self.ids = [None] * count
        self.lock = threading.Lock()
        self.booted = 0

    def get(self, slot):
        with self.lock:
            return self.ids[slot]

    def clear(self, slot, server_id):
        with self.lock:
            if self.ids[slot] == server_id:
                self.ids[slot] = None

    def reserve_boot(self, slot):
        """A name for a boot into ``slot``, or None when another client
        filled or is filling it."""
        with self.lock:
            if self.ids[slot] is not None:
                return None
            self.ids[slot] = 'booting'
            self.booted += 1
            return 'soak-%d-%d' % (slot, self.booted)

    def set(self, slot, server_id):
        with self.lock:
            self.ids[slot] = server_id


class Client(threading.Thread):
    """One user: random actions on random slots until ``stop`` is set.

    :param clock: the run's clock (seconds since its start).
    :param think_s: the most it waits between two requests.
    """

    def __init__(self, index, rng, aio, slots, soft_delete, stop, clock,
                 think_s=0.5):
        super().__init__(name='soak-client-%d' % index, daemon=True)
        self.index = index
        self.rng = rng
        self.aio = aio
        self.slots = slots
        self.soft_delete = soft_delete
        self.stop = stop
        self.clock = clock
        self.think_s = think_s
        self.requests = []
        #: (time, server id, what) of statuses UNKNOWN and of 5xx
        #: answers to reads.
        self.oddities = []
        self.offered = actions.offered(soft_delete)
        self.allowed = {a.name: actions.allowed_statuses(a, soft_delete)
                        for a in self.offered}
        self.crashed = None

    def run(self):
        try:
            while not self.stop.is_set():
                self._one()
                self.stop.wait(self.rng.uniform(0, self.think_s))
        except Exception as e:  # noqa: BLE001 - reported by the verdict
            self.crashed = '%s: %s' % (type(e).__name__, e)
            raise

    def _one(self):
        slot = self.rng.randrange(len(self.slots.ids))
        server_id = self.slots.get(slot)
        if server_id == 'booting':
            return
        if server_id is None:
            name = self.slots.reserve_boot(slot)
            if name is not None:
                self._boot(slot, name)
            return
        shown = self._status(server_id)
        if shown is None:
            return
        if shown == actions.GONE:
            self.slots.clear(slot, server_id)
            return
        status, busy = shown
        if busy and self.rng.random() >= INTERRUPT_CHANCE:
            return
        action = self._pick(status, busy)
        try:
            built = action.build(self.rng, self.aio, server_id)
        except requests.RequestException:
            return
        if built is not None:
            self._send(action.name, server_id, *built)

    def _status(self, server_id):
        """(status, True when a task runs), GONE, or None when the
        server could not be read."""
        try:
            resp = recipes.api(self.aio, 'GET',
                               actions.server_path(server_id), timeout=30)
        except requests.RequestException:
            self.stop.wait(0.2)
            return None
        if resp.status_code == 404:
            return actions.GONE
        if resp.status_code != 200:
            if resp.status_code >= 500:
                self.oddities.append((self.clock(), server_id, 'GET %d: %s'
                                      % (resp.status_code, resp.text[:200])))
            return None
        server = resp.json()['server']
        if server['status'] == 'UNKNOWN':
            self.oddities.append((self.clock(), server_id,
                                  'status UNKNOWN: %s' % resp.text[:300]))
        return server['status'], bool(server.get('OS-EXT-STS:task_state'))

    def _pick(self, status, busy):
        candidates = self.offered
        if busy or self.rng.random() >= ANY_ACTION_CHANCE:
            fitting = [a for a in self.offered
                       if self.allowed[a.name] is None
                       or status in self.allowed[a.name]]
            candidates = fitting or candidates
        return self.rng.choices(candidates,
                                [a.weight for a in candidates])[0]

    def _boot(self, slot, name):
        request = self._send(actions.BOOT, None, *actions.boot_request(name))
        if request.outcome == ACCEPTED:
            self.slots.set(slot, request.server_id)
        else:
            # Unknown: a server may exist that no slot holds; the checks
            # cover every server all the same.
            self.slots.set(slot, None)

    def _send(self, action, server_id, method, path, body):
        request = Request(client=self.index, action=action,
                          server_id=server_id, method=method, path=path,
                          started=self.clock())
        try:
            resp = recipes.api(self.aio, method, path, json=body,
                               timeout=30)
        except requests.RequestException as e:
            request.ended = self.clock()
            request.outcome = (DOWN if connection_refused(e)
                               else UNKNOWN)
            request.detail = '%s: %s' % (type(e).__name__, e)
            if request.outcome == DOWN:
                self.stop.wait(0.2)
        else:
            request.ended = self.clock()
            request.code = resp.status_code
            request.request_id = resp.headers.get('x-openstack-request-id')
            request.detail = resp.text[:500]
            if resp.status_code < 300:
                request.outcome = ACCEPTED
                if action == actions.BOOT:
                    request.server_id = resp.json()['server']['id']
            elif resp.status_code in REFUSAL_CODES:
                request.outcome = REFUSED
            else:
                request.outcome = ERROR
        self.requests.append(request)
        return request
