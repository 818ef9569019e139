"""GET /servers?changes-since= (and changes-before from 2.66): the
servers changed in a window, deleted ones included, as Nova; 400 for a
time that is not ISO 8601 or a window ending before it starts."""

import datetime

import pytest
import sqlalchemy as sa

from orchestrator.db import models
from orchestrator.db import session
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance


def _changed_at(instance, when, deleted=False):
    values = {'updated_at': when}
    if deleted:
        values.update(deleted=instance['id'], vm_state='deleted')
    with session.writer() as s:
        s.execute(sa.update(models.Instance).where(
            models.Instance.uuid == instance['uuid']).values(**values))


def _names(app, query, version=None):
    resp = call(app, 'GET', '/v2.1/servers?' + query, version=version)
    assert resp.status_int == 200, resp.text
    return sorted(s['name'] for s in resp.json['servers'])


@pytest.fixture
def three(app):
    old = make_instance('active', display_name='old')
    new = make_instance('active', display_name='new')
    gone = make_instance('active', display_name='gone')
    _changed_at(old, datetime.datetime(2020, 1, 1))
    _changed_at(new, datetime.datetime(2026, 6, 1))
    _changed_at(gone, datetime.datetime(2026, 6, 2), deleted=True)


def test_changes_since_lists_what_changed_deleted_included(app, three):
    assert _names(app, 'changes-since=2026-01-01T00:00:00Z') == [
        'gone', 'new']
    assert _names(app, 'changes-since=2051-01-01T12:34:00Z'
                  '&status=ACTIVE') == []
    # Offsets count: 23:00 at -02:00 is after old's change (00:00 UTC).
    assert _names(app, 'changes-since=2019-12-31T21:00:00-02:00') == [
        'gone', 'new', 'old']
    assert _names(app, 'changes-since=2019-12-31T23:00:00-02:00') == [
        'gone', 'new']
    # Without it, deleted servers stay out.
    assert _names(app, '') == ['new', 'old']


def test_changes_before_from_2_66(app, three):
    assert _names(app, 'changes-before=2026-06-01T12:00:00Z',
                  version='2.66') == ['new', 'old']
    assert _names(app, 'changes-since=2026-01-01T00:00:00Z'
                  '&changes-before=2026-06-01T12:00:00Z',
                  version='2.66') == ['new']
    # Before 2.66 it is not a filter.
    assert _names(app, 'changes-before=2021-01-01T00:00:00Z',
                  version='2.65') == ['new', 'old']


@pytest.mark.parametrize('query,version', [
    ('changes-since=2011/01/01', None),
    ('changes-since=yesterday', None),
    ('changes-before=2011/01/01', '2.66'),
    ('changes-since=2026-02-01T00:00:00Z'
     '&changes-before=2026-01-01T00:00:00Z', '2.66'),
])
def test_bad_windows_are_400(app, query, version):
    resp = call(app, 'GET', '/v2.1/servers/detail?' + query,
                version=version)
    assert resp.status_int == 400, resp.text
    assert 'changes-' in resp.json['badRequest']['message']


@pytest.mark.parametrize('when', ['9999-12-31T23:59:59-14:00',
                                  '0001-01-01T00:00:00+14:00'])
def test_times_beyond_the_calendar_in_utc_are_400(app, when):
    resp = call(app, 'GET', '/v2.1/servers?changes-since=' + when.replace(
        '+', '%2B'))
    assert resp.status_int == 400, resp.text
