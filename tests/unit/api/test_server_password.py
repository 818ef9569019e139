"""os-server-password: '' while no password is kept (nothing keeps one
here), cleared with a 204; project-scoped like any server
sub-resource."""

import uuid

import pytest
import sqlalchemy as sa

from orchestrator import states
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import persona_app


def _path(server_id):
    return '/v2.1/servers/%s/os-server-password' % server_id


def _keep(instance_uuid, system_metadata):
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance_uuid).values(
                system_metadata=system_metadata))


def test_no_password_kept_is_an_empty_string(app):
    server = make_instance(states.ACTIVE)
    resp = call(app, 'GET', _path(server['uuid']))
    assert oracle.check(resp, 'v2_1', 'servers', 'show_password') == {
        'password': ''}


def test_a_kept_password_is_read_in_chunk_order_and_cleared(app):
    server = make_instance(states.ACTIVE)
    _keep(server['uuid'], {'password_1': 'b' * 255, 'password_0': 'a' * 255,
                           'password_10': 'z', 'password_2': 'c',
                           'shelved_at': 'kept'})
    resp = call(app, 'GET', _path(server['uuid']))
    assert resp.json == {'password': 'a' * 255 + 'b' * 255 + 'c' + 'z'}
    resp = call(app, 'DELETE', _path(server['uuid']))
    oracle.check(resp, 'v2_1', 'servers', 'server_actions_delete_password')
    assert call(app, 'GET', _path(server['uuid'])).json == {'password': ''}
    assert db_instances.get(server['uuid'])['system_metadata'] == {
        'shelved_at': 'kept'}
    # Idempotent.
    assert call(app, 'DELETE', _path(server['uuid'])).status_int == 204


def test_clear_answers_whatever_task_runs_and_when_locked(member_app):
    server = make_instance(states.ACTIVE, task_state=states.REBOOTING,
                           locked=True)
    assert call(member_app, 'DELETE', _path(server['uuid'])).status_int \
        == 204


@pytest.mark.parametrize('method', ['GET', 'DELETE'])
def test_another_projects_or_a_missing_server_is_404(other_member_app,
                                                     method):
    server = make_instance(states.ACTIVE)
    for server_id in (server['uuid'], str(uuid.uuid4())):
        resp = call(other_member_app, method, _path(server_id))
        assert resp.status_int == 404
        assert resp.json == {'itemNotFound': {
            'code': 404,
            'message': 'Instance %s could not be found.' % server_id}}


def test_a_deleted_server_is_404(app):
    server = make_instance(states.ACTIVE)
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == server['uuid']).values(deleted=1))
    assert call(app, 'GET', _path(server['uuid'])).status_int == 404
    assert call(app, 'DELETE', _path(server['uuid'])).status_int == 404


def test_a_reader_reads_but_may_not_clear(db, conf):
    server = make_instance(states.ACTIVE)
    reader = persona_app(conf, 'reader', 'default', ['reader'])
    assert call(reader, 'GET', _path(server['uuid'])).json == {
        'password': ''}
    resp = call(reader, 'DELETE', _path(server['uuid']))
    assert resp.status_int == 403
    assert resp.json['forbidden']['code'] == 403


def test_a_member_reads_and_clears(member_app):
    server = make_instance(states.ACTIVE)
    assert call(member_app, 'GET', _path(server['uuid'])).status_int == 200
    assert call(member_app, 'DELETE', _path(server['uuid'])).status_int \
        == 204
