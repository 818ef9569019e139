"""POST /servers with min_count/max_count (Nova's multiple create): one
reservation, one boot flow per server, quota and capacity all or nothing
for min_count, names, the reservation_id filter."""

import pytest

from orchestrator.db import allocations
from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host

import sqlalchemy as sa


def _body(**server):
    values = {'name': 'web', 'imageRef': CIRROS, 'flavorRef': '1'}
    values.update(server)
    return {'server': values}


def _by_launch(instances):
    return sorted(instances, key=lambda i: i['launch_index'])


def _actions():
    with session.reader() as s:
        return [r.as_dict() for r in s.execute(
            sa.select(models.InstanceAction)).scalars()]


def test_max_count_makes_one_reservation_of_named_servers(app, conductor):
    resp = call(app, 'POST', '/v2.1/servers', _body(max_count=3))
    body = oracle.check(resp, 'v2_1', 'servers',
                        'create_server_with_admin_pass')
    made = _by_launch(db_instances.list_(PROJECT))
    assert [i['launch_index'] for i in made] == [0, 1, 2]
    assert [i['display_name'] for i in made] == ['web-1', 'web-2', 'web-3']
    assert [i['hostname'] for i in made] == ['web-1', 'web-2', 'web-3']
    assert len({i['reservation_id'] for i in made}) == 1
    assert made[0]['reservation_id'].startswith('r-')
    # The response is the first server's.
    assert body['server']['id'] == made[0]['uuid']
    # One boot flow asked for per server, each with its own claim.
    for instance in made:
        (method, _request_id, kwargs), = conductor.calls_for(
            instance['uuid'])
        assert method == 'build_instance'
        assert kwargs['task_id'] == instance['task_id']
    # Every action's request was recorded with the insert (accepted
    # together): the recording conductor never clears them.
    actions = _actions()
    assert len(actions) == 3
    assert all(a['pending_request']['method'] == 'build_instance'
               for a in actions)


def test_a_single_server_keeps_its_name(app, conductor):
    call(app, 'POST', '/v2.1/servers', _body(min_count=1, max_count=1))
    [instance] = db_instances.list_(PROJECT)
    assert instance['display_name'] == 'web'
    assert instance['launch_index'] == 0


def test_the_name_template_is_configurable(conf, app, conductor):
    conf.set_override('multi_instance_display_name_template',
                      '%(name)s.%(count)d-%(uuid)s', group='api')
    call(app, 'POST', '/v2.1/servers', _body(min_count=2))
    made = _by_launch(db_instances.list_(PROJECT))
    assert [i['display_name'] for i in made] == [
        'web.%d-%s' % (n, i['uuid']) for n, i in enumerate(made, 1)]


def test_return_reservation_id_and_the_filter(app, conductor):
    other = call(app, 'POST', '/v2.1/servers', _body(name='other'))
    assert other.status_int == 202
    resp = call(app, 'POST', '/v2.1/servers',
                _body(max_count=2, return_reservation_id=True))
    assert resp.status_int == 202
    assert set(resp.json) == {'reservation_id'}
    reservation = resp.json['reservation_id']
    listed = call(app, 'GET', '/v2.1/servers?reservation_id=' + reservation)
    assert sorted(s['name'] for s in listed.json['servers']) == [
        'web-1', 'web-2']
    detail = call(app, 'GET', '/v2.1/servers/detail?reservation_id='
                  + reservation, version='2.3')
    shown = sorted((s['OS-EXT-SRV-ATTR:reservation_id'],
                    s['OS-EXT-SRV-ATTR:launch_index'])
                   for s in detail.json['servers'])
    assert shown == [(reservation, 0), (reservation, 1)]
    none = call(app, 'GET', '/v2.1/servers?reservation_id=r-nothing')
    assert none.json['servers'] == []


def _set_quota(app, **limits):
    resp = call(app, 'PUT', '/v2.1/os-quota-sets/' + PROJECT,
                {'quota_set': limits})
    assert resp.status_int == 200, resp.text


def test_quota_makes_as_many_as_fit_between_min_and_max(app, conductor):
    _set_quota(app, instances=3)
    call(app, 'POST', '/v2.1/servers', _body(name='first'))
    resp = call(app, 'POST', '/v2.1/servers', _body(max_count=5))
    assert resp.status_int == 202, resp.text
    made = _by_launch([i for i in db_instances.list_(PROJECT)
                       if i['display_name'] != 'first'])
    # Named after the number made, as Nova.
    assert [i['display_name'] for i in made] == ['web-1', 'web-2']
    # One server fitting alone keeps the name.
    _set_quota(app, instances=4)
    call(app, 'POST', '/v2.1/servers', _body(name='solo', max_count=3))
    assert 'solo' in {i['display_name'] for i in db_instances.list_(PROJECT)}


def test_quota_below_min_count_is_403_and_makes_nothing(app, conductor):
    _set_quota(app, instances=2)
    resp = call(app, 'POST', '/v2.1/servers', _body(min_count=3,
                                                    max_count=4))
    assert resp.status_int == 403
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for instances: Requested 3-4, but already used 0 '
        'of 2 instances')
    _set_quota(app, instances=10, cores=5)
    resp = call(app, 'POST', '/v2.1/servers', _body(flavorRef='3',
                                                    min_count=3))
    assert resp.json['forbidden']['message'] == (
        'Quota exceeded for cores: Requested 6, but already used 0 of 5 '
        'cores')
    assert db_instances.list_(PROJECT) == []
    assert _actions() == []
    assert conductor.calls == []


def test_min_count_claims_capacity_for_all_or_nothing(app, conductor):
    make_compute_host('h1')                 # room for 2 of m1.medium
    resp = call(app, 'POST', '/v2.1/servers', _body(flavorRef='3',
                                                    min_count=3))
    assert resp.status_int == 409
    assert resp.json['conflictingRequest']['message'] == (
        'No valid host was found for 3 servers (min_count): 1 passing '
        'host(s) cannot take all of them: 1 without room. Nothing was '
        'created.')
    assert db_instances.list_(PROJECT) == []
    assert allocations.list_all() == []
    assert _actions() == []
    assert conductor.calls == []
    # min_count 2 fits: both claimed with the insert; the third server
    # (beyond min_count) is left to its own boot flow.
    resp = call(app, 'POST', '/v2.1/servers', _body(flavorRef='3',
                                                    min_count=2,
                                                    max_count=3))
    assert resp.status_int == 202, resp.text
    made = _by_launch(db_instances.list_(PROJECT))
    held = {a['consumer_uuid']: a['host'] for a in allocations.list_all()}
    assert held == {made[0]['uuid']: 'h1', made[1]['uuid']: 'h1'}
    assert len(made) == 3


def test_min_count_without_any_host_is_409(app, conductor):
    make_compute_host('h1', up=False)
    resp = call(app, 'POST', '/v2.1/servers', _body(min_count=2))
    assert resp.status_int == 409
    assert '1 host(s) considered' in \
        resp.json['conflictingRequest']['message']
    assert db_instances.list_(PROJECT) == []


def test_no_conductor_gives_back_every_server(app, no_conductor):
    make_compute_host('h1')
    resp = call(app, 'POST', '/v2.1/servers', _body(min_count=2,
                                                    max_count=3))
    assert resp.status_int == 503
    made = db_instances.list_(PROJECT)
    assert len(made) == 3
    assert {(i['vm_state'], i['task_state']) for i in made} == {
        ('error', None)}
    assert allocations.list_all() == []
    assert all(a['finish_time'] is not None and a['pending_request'] is None
               for a in _actions())


@pytest.mark.parametrize('server,words', [
    ({'min_count': 3, 'max_count': 2}, 'min_count must be <= max_count'),
    ({'max_count': 0}, 'field/attribute max_count'),
    ({'min_count': 'x'}, 'field/attribute min_count'),
    ({'max_count': 1000000}, 'max_servers_per_request'),
])
def test_bad_counts_are_400(app, conductor, server, words):
    resp = call(app, 'POST', '/v2.1/servers', _body(**server))
    assert resp.status_int == 400, resp.text
    assert words in resp.json['badRequest']['message']
    assert db_instances.list_(PROJECT) == []


@pytest.mark.parametrize('weigher,spread', [('spread', True),
                                            ('pack', False)])
def test_min_count_claims_follow_the_weigher(conf, app, conductor,
                                             weigher, spread):
    conf.set_override('weigher', weigher, group='scheduler')
    make_compute_host('h1')
    make_compute_host('h2')
    resp = call(app, 'POST', '/v2.1/servers', _body(flavorRef='3',
                                                    min_count=2))
    assert resp.status_int == 202, resp.text
    hosts = sorted(a['host'] for a in allocations.list_all())
    assert hosts == (['h1', 'h2'] if spread else ['h1', 'h1'])
