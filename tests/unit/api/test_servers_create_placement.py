"""POST /v2.1/servers: availability zone and Nova's admin-only
"zone:host" form, down to what the conductor is asked to build."""

import pytest

from orchestrator.db import instances as db_instances
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call


def _create(app, zone):
    return call(app, 'POST', '/v2.1/servers', {'server': {
        'name': 'placed', 'imageRef': CIRROS, 'flavorRef': '1',
        'networks': 'auto', 'availability_zone': zone}}, version='2.47')


def _nothing_created():
    """The request was refused before an instance (and so a build) was
    made."""
    return db_instances.list_() == []


def _build_call(conductor, server_id):
    (method, _request_id, kwargs), = conductor.calls_for(server_id)
    assert method == 'build_instance'
    return kwargs


def test_a_zone_is_stored_and_no_host_is_requested(app, conductor):
    resp = _create(app, 'az1')
    assert resp.status_code == 202, resp.text
    server_id = resp.json['server']['id']
    assert db_instances.get(server_id)['availability_zone'] == 'az1'
    assert 'params' not in _build_call(conductor, server_id)


@pytest.mark.parametrize('zone, stored, host', [
    ('az1:compute-2', 'az1', 'compute-2'),
    (':compute-2', None, 'compute-2'),
    ('az1:compute-2:compute-2', 'az1', 'compute-2'),
    ('az1::compute-3', 'az1', 'compute-3'),
])
def test_admin_zone_host_form_requests_the_host(app, conductor, zone,
                                                stored, host):
    resp = _create(app, zone)
    assert resp.status_code == 202, resp.text
    server_id = resp.json['server']['id']
    assert db_instances.get(server_id)['availability_zone'] == stored
    assert _build_call(conductor, server_id)['params'] == {
        'requested_host': host}


def test_zone_host_form_is_forbidden_to_non_admins(member_app, conductor):
    resp = _create(member_app, 'nova:compute-1')
    assert resp.status_code == 403, resp.text
    assert 'forced_host' in resp.json['forbidden']['message']
    assert _nothing_created()


@pytest.mark.parametrize('zone', ['az1:', 'az1::', 'az1:compute-1:other'])
def test_zone_host_form_without_a_usable_host_is_400(app, conductor, zone):
    resp = _create(app, zone)
    assert resp.status_code == 400, resp.text
    assert _nothing_created()


def test_a_plain_zone_is_allowed_to_non_admins(member_app, conductor):
    resp = _create(member_app, 'az1')
    assert resp.status_code == 202, resp.text
