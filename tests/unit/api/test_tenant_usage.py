"""os-simple-tenant-usage: hours and totals from launched_at and
terminated_at (deleted servers included), Nova's time formats, the 2.40
paging, tempest.lib's schemas and who may see what."""

import datetime

import pytest
import sqlalchemy as sa

from orchestrator.db import instances as db_instances
from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api import oracle
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import persona_app

T0 = datetime.datetime(2026, 1, 1)
WINDOW = 'start=2026-01-01T00:00:00&end=2026-01-02T00:00:00'


def _at(hours):
    return T0 + datetime.timedelta(hours=hours)


def _server(project, launched, terminated=None, deleted=False, **values):
    """An active server of ``project`` (flavor 1) launched and maybe
    terminated at the given hours after T0."""
    instance = make_instance('active', host='h1', project_id=project,
                             **values)
    if deleted:
        db_instances.force_delete(instance['uuid'], {'request_id': 'req-d'})
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(
                launched_at=None if launched is None else _at(launched),
                terminated_at=None if terminated is None
                else _at(terminated)))
    return db_instances.get(instance['uuid'], read_deleted=True)


@pytest.fixture
def servers(db):
    """In the window [T0, T0+24h]: alpha's server running from -5h
    (24 hours), alpha's deleted one from 2h to 8h (6 hours), beta's from
    20h on (4 hours); outside it: alpha's ended at -1h, beta's launched at
    30h, and a never launched one (no usage: not listed)."""
    made = {
        'running': _server('alpha', -5, display_name='running'),
        'gone': _server('alpha', 2, 8, deleted=True, display_name='gone'),
        'beta': _server('beta', 20, display_name='beta-vm'),
    }
    _server('alpha', -10, -1, deleted=True)
    _server('beta', 30)
    made['unlaunched'] = _server('alpha', None, display_name='unlaunched')
    return made


def test_list_per_tempest_with_deleted_servers(app, servers):
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage?%s&detailed=1'
                % WINDOW)
    body = oracle.check(resp, 'v2_1', 'tenant_usages', 'list_tenant_usage')
    alpha, beta = body['tenant_usages']
    assert len(alpha) == 8
    assert (alpha['tenant_id'], beta['tenant_id']) == ('alpha', 'beta')
    assert (alpha['start'], alpha['stop']) == (
        '2026-01-01T00:00:00.000000', '2026-01-02T00:00:00.000000')
    flavor = servers['running']['flavor']
    assert alpha['total_hours'] == pytest.approx(30.0)
    assert alpha['total_vcpus_usage'] == pytest.approx(30.0 * flavor['vcpus'])
    assert alpha['total_memory_mb_usage'] == pytest.approx(
        30.0 * flavor['memory_mb'])
    assert alpha['total_local_gb_usage'] == pytest.approx(
        30.0 * flavor['root_gb'])
    by_name = {u['name']: u for u in alpha['server_usages']}
    assert sorted(by_name) == ['gone', 'running']
    gone = by_name['gone']
    assert (gone['hours'], gone['state'], gone['uptime']) == (
        pytest.approx(6.0), 'terminated', 6 * 3600)
    assert gone['ended_at'] == '2026-01-01T08:00:00.000000'
    assert gone['flavor'] == flavor['name']
    assert (by_name['running']['state'], by_name['running']['ended_at']) \
        == ('active', None)
    assert beta['total_hours'] == pytest.approx(4.0)
    for detailed in ('', '&detailed=0', '&detailed=no'):
        resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage?%s%s'
                    % (WINDOW, detailed))
        assert all('server_usages' not in u
                   for u in resp.json['tenant_usages'])
    # openstacksdk's spelling.
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage?%s&detailed=True'
                % WINDOW)
    assert all('server_usages' in u for u in resp.json['tenant_usages'])


def test_show_per_tempest_for_a_reader(app, conf, servers):
    reader = persona_app(conf, 'alpha-reader', 'alpha', ['reader'])
    for api in (app, reader):
        resp = call(api, 'GET', '/v2.1/os-simple-tenant-usage/alpha?%s'
                    % WINDOW)
        usage = oracle.check(resp, 'v2_1', 'tenant_usages',
                             'get_tenant_usage')['tenant_usage']
        assert len(usage) == 8
        assert usage['total_hours'] == pytest.approx(30.0)
        assert len(usage['server_usages']) == 2
    resp = call(reader, 'GET', '/v2.1/os-simple-tenant-usage/beta?%s'
                % WINDOW)
    assert resp.status_int == 403
    resp = call(reader, 'GET', '/v2.1/os-simple-tenant-usage?%s' % WINDOW)
    assert resp.status_int == 403
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage/nobody?%s'
                % WINDOW)
    assert resp.json == {'tenant_usage': {}}


@pytest.mark.parametrize('query,message', [
    ('start=2026-01-02T00:00:00&end=2026-01-01T00:00:00',
     'The start time cannot occur after the end time'),
    ('start=2026-01-01T00:00:00&end=2026-01-01T00:00:00',
     'The start time cannot occur after the end time'),
    ('start=yesterday', 'Datetime is in invalid format'),
    ('start=2026-01-01', 'Datetime is in invalid format'),
    ('end=2020-01-01 00:00:00.5', 'The start time cannot occur'),
])
def test_bad_windows_are_400(app, query, message):
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage/alpha?' + query)
    assert resp.status_int == 400, resp.body
    assert message in resp.json['badRequest']['message']


def test_the_three_time_formats(app, servers):
    for start in ('2026-01-01T00:00:00', '2026-01-01T00:00:00.000000',
                  '2026-01-01 00:00:00.000000'):
        resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage/alpha?start='
                    '%s&end=2026-01-02T00:00:00' % start)
        assert resp.json['tenant_usage']['total_hours'] == \
            pytest.approx(30.0)


def test_an_empty_tenant_id_is_404(app, servers):
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage/?%s' % WINDOW)
    assert resp.status_int == 404


def test_paging_from_240(app, servers):
    path = '/v2.1/os-simple-tenant-usage?%s&detailed=1&limit=2' % WINDOW
    resp = call(app, 'GET', path, version='2.40')
    # tempest.lib has no 2.40 module: its 2.1 schema admits the links.
    body = oracle.check(resp, 'v2_1', 'tenant_usages', 'list_tenant_usage')
    [alpha] = body['tenant_usages']
    assert [u['name'] for u in alpha['server_usages']] == ['running', 'gone']
    [link] = body['tenant_usages_links']
    assert 'marker=%s' % servers['gone']['uuid'] in link['href']
    resp = call(app, 'GET', link['href'].replace('http://localhost', ''),
                version='2.40')
    names = [u['name'] for t in resp.json['tenant_usages']
             for u in t['server_usages']]
    assert names == ['beta-vm']
    # Before 2.40 there is no paging.
    resp = call(app, 'GET', path)
    assert 'tenant_usages_links' not in resp.json
    assert len(resp.json['tenant_usages'][0]['server_usages']) == 2
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage/alpha?%s&marker='
                'nope' % WINDOW, version='2.40')
    assert resp.status_int == 400


def test_no_window_means_now(app):
    _server(PROJECT, -1)
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage?start='
                '2000-01-01T00:00:00')
    [usage] = resp.json['tenant_usages']
    assert usage['tenant_id'] == PROJECT
    # Neither given: the instant now, with no hours in it.
    resp = call(app, 'GET', '/v2.1/os-simple-tenant-usage')
    [usage] = resp.json['tenant_usages']
    assert usage['total_hours'] == 0 and usage['start'] == usage['stop']

