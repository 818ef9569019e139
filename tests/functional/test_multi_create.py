"""Multiple create on the all-in-one (3 fake hosts), over HTTP: three
servers of one reservation all ACTIVE, each by its own boot flow; a
min_count the hosts cannot hold leaves nothing behind; a server asked
with ``networks: "none"`` is ACTIVE without an address."""

from orchestrator.db import allocations
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import session

import sqlalchemy as sa

from tests.functional import api_helpers as h

V237 = {'OpenStack-API-Version': 'compute 2.37'}


def _server(system, name, **extra):
    image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]
    server = dict(name=name, flavorRef='1', imageRef=image['id'],
                  networks='auto')
    server.update(extra)
    return {'server': server}


def _pending_requests():
    with session.reader() as s:
        return s.execute(sa.select(sa.func.count()).select_from(
            models.InstanceAction).where(
                models.InstanceAction.pending_request.is_not(None))
        ).scalar()


def test_max_count_3_all_active_and_unmet_min_count_leaves_nothing(
        api_system):
    resp = h.api(api_system, 'POST', '/v2.1/servers', json=_server(
        api_system, 'trio', max_count=3, return_reservation_id=True))
    assert resp.status_code == 202, resp.text
    reservation = resp.json()['reservation_id']
    listed = h.api(api_system, 'GET', '/v2.1/servers?reservation_id='
                   + reservation).json()['servers']
    assert sorted(s['name'] for s in listed) == ['trio-1', 'trio-2',
                                                 'trio-3']
    for server in listed:
        found = h.wait_stable(api_system, server['id'], 'ACTIVE')
        assert found['addresses']
    before = ({i['uuid'] for i in instances.list_()},
              len(allocations.list_all()))

    # Room for far fewer than 90 m1.large; the quota is out of the way.
    project = h.api(api_system, 'GET', '/v2.1/servers/detail').json()[
        'servers'][0]['tenant_id']
    assert h.api(api_system, 'PUT', '/v2.1/os-quota-sets/' + project,
                 json={'quota_set': {'instances': -1, 'cores': -1,
                                     'ram': -1}}).status_code == 200
    resp = h.api(api_system, 'POST', '/v2.1/servers', json=_server(
        api_system, 'crowd', flavorRef='4', min_count=90, max_count=95))
    assert resp.status_code == 409, resp.text
    assert 'Nothing was created' in resp.json()[
        'conflictingRequest']['message']
    assert ({i['uuid'] for i in instances.list_()},
            len(allocations.list_all())) == before
    assert _pending_requests() == 0


def test_networks_none_boots_without_an_address(api_system):
    resp = h.api(api_system, 'POST', '/v2.1/servers', headers=V237,
                 json=_server(api_system, 'dark', networks='none'))
    assert resp.status_code == 202, resp.text
    found = h.wait_stable(api_system, resp.json()['server']['id'], 'ACTIVE')
    assert found['addresses'] == {}
