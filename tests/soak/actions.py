"""What the soak's clients ask for: the actions users take, as data.

Each :class:`SoakAction` names its rule in
:data:`orchestrator.state_machine.ACTIONS` (``machine``); the statuses a
client may see it allowed in, and what a server looks like once it
succeeded, are derived from that one table (:func:`allowed_statuses`,
:func:`expected_statuses`), not written again here.
"""

import dataclasses

from orchestrator.db import catalog
from orchestrator import state_machine
from orchestrator import states

from tests.crash import recipes

#: The microversion of every request (as the crash suite's).
MICROVERSION = (2, 47)
#: A server that is gone once its action succeeded (404).
GONE = 'gone'

FLAVORS = ('1', '2', '3')
IMAGES = tuple(image_id for image_id, _name, _size
               in catalog.DEFAULT_IMAGES)


def server_path(server_id):
    return '/v2.1/servers/%s' % server_id


def _post(body_of):
    """A server action: ``body_of(rng)`` is its JSON body."""
    def build(rng, aio, server_id):
        return ('POST', server_path(server_id) + '/action', body_of(rng))
    return build


def _delete(rng, aio, server_id):
    return ('DELETE', server_path(server_id), None)


def _abort(rng, aio, server_id):
    """DELETE of the server's live migration in progress (None: it has
    none any more)."""
    resp = recipes.api(aio, 'GET', server_path(server_id) + '/migrations')
    if resp.status_code != 200:
        return None
    migrations = resp.json().get('migrations', [])
    if not migrations:
        return None
    migration = rng.choice(migrations)
    return ('DELETE', '%s/migrations/%s' % (server_path(server_id),
                                            migration['id']), None)


@dataclasses.dataclass(frozen=True)
class SoakAction:
    """One thing a client may ask of an existing server.

    :param name: its name in the soak's summary.
    :param machine: its rule in state_machine.ACTIONS.
    :param weight: how often it is picked, relative to the others.
    :param build: (rng, aio, server_id) -> (method, path, JSON body), or
        None when there is nothing to send.
    :param soft_delete: True: only offered when soft delete is
        configured; False: only when it is not; None: always.
    """

    name: str
    machine: str
    weight: int
    build: object
    soft_delete: bool = None


ACTIONS = (
    SoakAction('delete', state_machine.DELETE, 2, _delete),
    SoakAction('force-delete', state_machine.FORCE_DELETE, 1,
               _post(lambda rng: {'forceDelete': None})),
    SoakAction('stop', state_machine.STOP, 4,
               _post(lambda rng: {'os-stop': None})),
    SoakAction('start', state_machine.START, 4,
               _post(lambda rng: {'os-start': None})),
    SoakAction('reboot-soft', state_machine.REBOOT_SOFT, 3,
               _post(lambda rng: {'reboot': {'type': 'SOFT'}})),
    SoakAction('reboot-hard', state_machine.REBOOT_HARD, 2,
               _post(lambda rng: {'reboot': {'type': 'HARD'}})),
    SoakAction('pause', state_machine.PAUSE, 3,
               _post(lambda rng: {'pause': None})),
    SoakAction('unpause', state_machine.UNPAUSE, 3,
               _post(lambda rng: {'unpause': None})),
    SoakAction('suspend', state_machine.SUSPEND, 3,
               _post(lambda rng: {'suspend': None})),
    SoakAction('resume', state_machine.RESUME, 3,
               _post(lambda rng: {'resume': None})),
    SoakAction('rescue', state_machine.RESCUE, 2,
               _post(lambda rng: {'rescue': None})),
    SoakAction('unrescue', state_machine.UNRESCUE, 3,
               _post(lambda rng: {'unrescue': None})),
    SoakAction('rebuild', state_machine.REBUILD, 2,
               _post(lambda rng: {'rebuild': {
                   'imageRef': rng.choice(IMAGES)}})),
    SoakAction('snapshot', state_machine.SNAPSHOT, 2,
               _post(lambda rng: {'createImage': {'name': 'soak-snap'}})),
    SoakAction('resize', state_machine.RESIZE, 4,
               _post(lambda rng: {'resize': {
                   'flavorRef': rng.choice(FLAVORS)}})),
    SoakAction('confirm-resize', state_machine.CONFIRM_RESIZE, 3,
               _post(lambda rng: {'confirmResize': None})),
    SoakAction('revert-resize', state_machine.REVERT_RESIZE, 3,
               _post(lambda rng: {'revertResize': None})),
    SoakAction('migrate', state_machine.MIGRATE, 3,
               _post(lambda rng: {'migrate': None})),
    SoakAction('live-migrate', state_machine.LIVE_MIGRATE, 4,
               _post(lambda rng: {'os-migrateLive': {
                   'host': None, 'block_migration': 'auto'}})),
    SoakAction('live-migrate-abort', state_machine.LIVE_MIGRATE_ABORT, 2,
               _abort),
    SoakAction('restore', state_machine.RESTORE, 4,
               _post(lambda rng: {'restore': None}), soft_delete=True),
)

BOOT = 'boot'


def boot_request(name):
    """(method, path, body) of a boot of an m1.tiny from the first
    image."""
    return ('POST', '/v2.1/servers', {'server': {
        'name': name, 'flavorRef': FLAVORS[0], 'imageRef': IMAGES[0],
        'networks': 'auto'}})


def offered(soft_delete):
    """The actions clients pick from with soft delete on or off."""
    return [a for a in ACTIONS
            if a.soft_delete is None or a.soft_delete == soft_delete]


def _status(vm_state, task_state):
    return state_machine.status(vm_state, task_state, MICROVERSION)


def allowed_statuses(action, soft_delete):
    """The statuses in which the API may accept ``action`` (None: any).
    A DELETE is a soft delete when soft delete is on and the server is
    not soft-deleted already."""
    rules = [state_machine.ACTIONS[action.machine]]
    if action.machine == state_machine.DELETE and soft_delete:
        rules.append(state_machine.ACTIONS[state_machine.SOFT_DELETE])
    found = set()
    for rule in rules:
        if state_machine.ANY_TASK in rule.task_states:
            return None
        for vm_state in rule.vm_states:
            # Accepted too: a repeat that joins the one running (a
            # second delete while one runs, 204).
            for task_state in rule.task_states | rule.joins:
                found.add(_status(vm_state, task_state))
    return frozenset(found)


def expected_statuses(machine_name):
    """The statuses a server may show once the action ``machine_name``
    (an instance action's name) succeeded, :data:`GONE` for a delete;
    None when the action says nothing about the end state (it claims no
    task: an abort, a reset, a correction)."""
    rule = state_machine.ACTIONS.get(machine_name)
    if rule is None or rule.task_state is None \
            and machine_name != state_machine.FORCE_DELETE:
        return None
    if states.DELETED in rule.results:
        return GONE
    return frozenset(_status(vm, None) for vm in rule.results)
