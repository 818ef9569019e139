"""os-instance_usage_audit_log: Nova's summary of a period no host
audited, for administrators only."""

import datetime
from urllib import parse

import pytest

from orchestrator.api import usage_audit_log
from orchestrator.db import hosts as db_hosts
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_compute_host
from tests.unit.api.conftest import persona_app

BASE = '/v2.1/os-instance_usage_audit_log'


def _at(text):
    return datetime.datetime.strptime(text, '%Y-%m-%d %H:%M:%S.%f')


@pytest.mark.parametrize('before,beginning,ending', [
    ('2026-12-06 06:10:00.0', '2026-11-01 00:00:00', '2026-12-01 00:00:00'),
    # The month is not complete until the instant after it.
    ('2026-12-01 00:00:00.0', '2026-10-01 00:00:00', '2026-11-01 00:00:00'),
    ('2026-12-01 00:00:00.000001', '2026-11-01 00:00:00',
     '2026-12-01 00:00:00'),
    # Across the new year.
    ('2027-01-15 12:00:00.0', '2026-12-01 00:00:00', '2027-01-01 00:00:00'),
    ('2027-02-01 00:00:00.0', '2026-12-01 00:00:00', '2027-01-01 00:00:00'),
])
def test_last_completed_month_as_nova_computes_it(before, beginning,
                                                  ending):
    found = usage_audit_log.last_completed_month(_at(before))
    assert tuple(str(t) for t in found) == (beginning, ending)


def test_list_names_every_compute_host_not_run(app):
    make_compute_host('h2')
    make_compute_host('h1', up=False)
    db_hosts.set_service_disabled('h2', 'orchestrator-compute', True)
    db_hosts.heartbeat('c1', 'orchestrator-conductor')
    resp = call(app, 'GET', BASE)
    body = oracle.check(resp, 'v2_1', 'instance_usage_audit_logs',
                        'list_instance_usage_audit_log')
    log = body['instance_usage_audit_logs']
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    beginning, ending = usage_audit_log.last_completed_month(now)
    assert log == {
        'period_beginning': str(beginning), 'period_ending': str(ending),
        'num_hosts': 2, 'num_hosts_done': 0, 'num_hosts_running': 0,
        'num_hosts_not_run': 2, 'hosts_not_run': ['h1', 'h2'],
        'total_instances': 0, 'total_errors': 0,
        'overall_status': '0 of 2 hosts done. 0 errors.', 'log': {}}


def test_without_compute_hosts_all_of_none_are_done(app):
    body = call(app, 'GET', BASE).json['instance_usage_audit_logs']
    assert body['num_hosts'] == 0 and body['hosts_not_run'] == []
    assert body['overall_status'] == 'ALL hosts done. 0 errors.'


@pytest.mark.parametrize('before', ['2026-12-06 06:10:00',
                                    '2026-12-06 06:10:00.123456'])
def test_show_is_the_period_before_the_timestamp(app, before):
    make_compute_host('h1')
    resp = call(app, 'GET', '%s/%s' % (BASE, parse.quote(before)))
    body = oracle.check(resp, 'v2_1', 'instance_usage_audit_logs',
                        'get_instance_usage_audit_log')
    log = body['instance_usage_audit_log']
    assert (log['period_beginning'], log['period_ending']) == (
        '2026-11-01 00:00:00', '2026-12-01 00:00:00')
    assert log['hosts_not_run'] == ['h1']
    assert log['overall_status'] == '0 of 1 hosts done. 0 errors.'


@pytest.mark.parametrize('before', [
    'invalid_time', '2026-12-06', '2026-12-06T06:10:00',
    '2026-13-01 00:00:00', '2026-12-06 06:10:00.x',
    # The month before January of year 1 is no date.
    '0001-01-15 00:00:00'])
def test_bad_timestamp_is_400_with_nova_message(app, before):
    resp = call(app, 'GET', '%s/%s' % (BASE, parse.quote(before)))
    assert resp.status_int == 400
    assert resp.json == {'badRequest': {
        'code': 400, 'message': 'Invalid timestamp for date %s' % before}}


@pytest.mark.parametrize('roles', [['member'], ['reader']])
def test_not_an_administrator_is_403(db, conf, roles):
    app = persona_app(conf, 'someone', 'default', roles)
    for path in (BASE, BASE + '/2026-12-06%2006:10:00',
                 BASE + '/invalid_time'):
        resp = call(app, 'GET', path)
        assert resp.status_int == 403, path
        assert resp.json['forbidden']['code'] == 403
