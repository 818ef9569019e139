"""orchestrator.conductor.system_actions.claim_and_post: what the
conductor itself starts (the reclaim of soft-deleted servers)."""

import uuid

import sqlalchemy as sa

from orchestrator import state_machine
from orchestrator import states
from orchestrator.conductor import system_actions
from orchestrator.db import actions as db_actions
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from flows import delete as delete_server
from tests.unit.api.conftest import make_instance


class Poster:
    def __init__(self):
        self.posted = []

    def post(self, flow_module, store, task_id):
        self.posted.append((flow_module, store, task_id))


def _soft_deleted(task_state=None):
    """A soft-deleted server (written directly, as its flow would)."""
    instance = make_instance('active', host='h1')
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                vm_state=states.SOFT_DELETED, task_state=task_state,
                task_id=str(uuid.uuid4()) if task_state else None))
    return db_instances.get(instance['uuid'])


def _deletes(instance_uuid):
    return [a for a in db_actions.list_for_instance(instance_uuid)
            if a['action'] == state_machine.DELETE]


def test_reclaim_claims_and_posts_the_delete(db):
    instance = _soft_deleted()
    poster = Poster()
    claimed = system_actions.claim_and_post(
        poster, instance['uuid'], state_machine.DELETE, delete_server)
    assert claimed['task_state'] == states.DELETING
    (flow, _store, task_id), = poster.posted
    assert flow is delete_server and task_id == claimed['task_id']
    assert len(_deletes(instance['uuid'])) == 1


def test_reclaim_of_a_server_whose_delete_runs_posts_nothing(db):
    """A user's DELETE claimed it first: the reclaim joins that delete
    (nothing posted, no second action, the user's claim untouched)."""
    instance = _soft_deleted(task_state=states.DELETING)
    before = db_instances.get(instance['uuid'])
    poster = Poster()
    assert system_actions.claim_and_post(
        poster, instance['uuid'], state_machine.DELETE,
        delete_server) is None
    assert poster.posted == []
    assert _deletes(instance['uuid']) == []
    assert db_instances.get(instance['uuid'])['task_id'] == \
        before['task_id']
