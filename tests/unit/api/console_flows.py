"""Flows in the logbook for the console's tests, saved as a conductor
saves them (its logbook keyed by the flow and claim, the store in the
flow's meta and injector) and given atoms as TaskFlow's engine makes
them when it loads the flow; the steps' and flow's states are then set
through TaskFlow's storage, as a run would leave them. No step runs."""

import contextlib

import sqlalchemy as sa

from taskflow import engines
from taskflow.persistence import models as tf_models
from taskflow import retry
from taskflow import states as tf_states
from taskflow.types import failure

from orchestrator import context
from orchestrator.conductor import jobs
from orchestrator.conductor import persistence
from orchestrator import states
from orchestrator.db import actions as db_actions
from orchestrator.db import models
from orchestrator.db import session

from flows import boot
from flows import catalog
from flows import keys
from tests.unit.api.conftest import make_instance


def action_of(instance_uuid, name='create'):
    """The instance's newest action called ``name``."""
    return [a for a in db_actions.list_for_instance(instance_uuid)
            if a['action'] == name][0]


def save_flow(instance, flow_module, action, flow_state=None,
              step_states=None, retry_history=0, with_atoms=True):
    """Save ``flow_module``'s flow for ``action`` of ``instance``.

    :param flow_state: the flow's state (None: as posted, PENDING).
    :param step_states: {step short name: state} set on the atoms (an
        exception: the step failed with it).
    :param retry_history: runs recorded in each retry's history.
    :param with_atoms: False: only the flow detail and its store, as
        posted (fast: for volume).
    :returns: the flow detail's uuid.
    """
    ctxt = context.RequestContext(user_id='admin', project_id=instance[
        'project_id'], overwrite=False)
    store = keys.make_store(ctxt.to_dict(), instance['uuid'], action['id'],
                            task_id=action['task_id'], params={})
    backend = persistence.Backend(session.get_engine())
    book = tf_models.LogBook(flow_module.FLOW_NAME, uuid=jobs.book_uuid_for(
        flow_module.FLOW_NAME, action['task_id']))
    flow_detail = jobs.new_flow_detail(flow_module, store)
    book.add(flow_detail)
    if not with_atoms:
        flow_detail.state = flow_state
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    if not with_atoms:
        return flow_detail.uuid
    flow = flow_module.get_flow()
    engine = engines.load(flow, flow_detail=flow_detail, book=book,
                          backend=backend, store=store)
    engine.compile()
    engine.prepare()
    storage = engine.storage
    names = {catalog.short_name(a.name): a.name
             for a in catalog.atoms_of(flow, retries=True)}
    for atom in catalog.atoms_of(flow, retries=True):
        if isinstance(atom, retry.Retry):
            # Each run of a retry appends to its history.
            for attempt in range(retry_history):
                storage.save(atom.name, attempt + 1)
    for short, state in (step_states or {}).items():
        if isinstance(state, Exception):
            # A step that failed with this error.
            storage.save(names[short], failure.Failure.from_exception(
                state), tf_states.FAILURE)
        else:
            storage.set_atom_state(names[short], state)
    if flow_state is not None:
        storage.set_flow_state(flow_state)
    return flow_detail.uuid


def set_states(flow_uuid, flow_state, step_states):
    """Write a flow's and its steps' states as a conductor's engine (its
    own persistence backend) would."""
    backend = persistence.Backend(session.get_engine())
    with contextlib.closing(backend.get_connection()) as conn:
        flow_detail = conn.get_flow_details(flow_uuid)
        for atom in flow_detail:
            short = catalog.short_name(atom.name)
            if short in step_states:
                atom.state = step_states[short]
                atom.intention = tf_states.EXECUTE
        flow_detail.state = flow_state
        conn.update_flow_details(flow_detail)


def repairable_boot(project_id='default', flow_state=tf_states.FAILURE,
                    step_states=None):
    """A server in error whose boot flow failed (by default at spawn)
    and still holds it (the claim's task_id, no task running): a flow
    a repair may start from. Returns (instance, action, flow uuid)."""
    instance = make_instance(states.ERROR, project_id=project_id)
    action = action_of(instance['uuid'])
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                task_id=action['task_id']))
    flow_uuid = save_flow(instance, boot, action, flow_state=flow_state,
                          step_states=step_states or {
                              'BuildToErrorOnRevert': tf_states.SUCCESS,
                              'SpawnOnHost': tf_states.FAILURE})
    return instance, action, flow_uuid


def nodes(node):
    """Every node of a console flow tree, depth first, a sub-flow's retry
    before its children."""
    yield node
    if node['retry']:
        yield from nodes(node['retry'])
    for child in node['children']:
        yield from nodes(child)
