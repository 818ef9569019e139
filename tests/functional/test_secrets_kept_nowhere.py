"""Secrets are kept nowhere (issue 12, "Secrets never kept").

On an all-in-one serving HTTP, with every log record of the process
captured at DEBUG (oslo.messaging's, TaskFlow's and SQLAlchemy's
included), requests carry markers:

(a) a create with ``adminPass`` = CREATE_PASS,
(b) a rescue with ``adminPass`` = RESCUE_PASS,
(c) failed flows: a rescue whose host call fails (``adminPass`` =
    FAILED_RESCUE_PASS) and a create whose spawn fails on every host
    (``adminPass`` = FAILED_CREATE_PASS); TaskFlow's conductor logs "Job
    execution failed" for them,
(d) bad requests (400) with ``adminPass`` = BAD_PASS and ``user_data`` =
    BAD_USER_DATA, malformed bodies included,
(e) a changePassword with ``adminPass`` = CHANGED_PASS, and one whose
    host call fails (``adminPass`` = FAILED_CHANGED_PASS),

every one with ``X-Auth-Token: TOKEN``. Then no marker is in the
database (every row of every table, and the bytes of the SQLite file and
its WAL, where overwritten rows may linger), in any file under the state
dir, in the captured logs, nor in a 400's body. The host did get the
rescue and the changed passwords (it keeps their hashes), and the flows'
stores hold them sealed; a caller reads faults and action messages with
no traceback and no file path.
"""

import hashlib
import logging
import os
import re
import stat
import threading
import uuid

import pytest
import requests
import sqlalchemy as sa

from orchestrator import secret_box
from orchestrator.db import session

from flows import keys
from tests.functional import api_helpers as h
from tests.functional.conftest import check_after_test
from tests.functional.systems import start_all_in_one

_RUN = uuid.uuid4().hex[:10]
CREATE_PASS = 'mark1-create-pass-' + _RUN
RESCUE_PASS = 'mark2-rescue-pass-' + _RUN
TOKEN = 'mark3-auth-token-' + _RUN
FAILED_RESCUE_PASS = 'mark4-failed-rescue-pass-' + _RUN
FAILED_CREATE_PASS = 'mark5-failed-create-pass-' + _RUN
BAD_PASS = 'mark6-bad-request-pass-' + _RUN
BAD_USER_DATA = 'mark7-bad-user-data-' + _RUN
CHANGED_PASS = 'mark8-changed-pass-' + _RUN
FAILED_CHANGED_PASS = 'mark9-failed-changed-pass-' + _RUN
MARKERS = (CREATE_PASS, RESCUE_PASS, TOKEN, FAILED_RESCUE_PASS,
           FAILED_CREATE_PASS, BAD_PASS, BAD_USER_DATA, CHANGED_PASS,
           FAILED_CHANGED_PASS)
AUTH = {'X-Auth-Token': TOKEN}
#: A file path in a message.
PATH = re.compile(r'(?:^|[\s\'"(])/[\w.-]+/')


class CapturedLogs(logging.Handler):
    """Every record of the process, formatted with its traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(
            '%(asctime)s %(levelname)s %(name)s %(message)s'))
        self._lock2 = threading.Lock()
        self.lines = []

    def emit(self, record):
        text = self.format(record)
        with self._lock2:
            self.lines.append(text)

    def text(self):
        with self._lock2:
            return '\n'.join(self.lines)


@pytest.fixture
def logs():
    handler = CapturedLogs()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def node(request, conf, tmp_path, logs):
    system = start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        yield system
    finally:
        system.stop()


def _post(system, path, body=None, data=None, headers=None):
    headers = dict(h.HEADERS, **AUTH, **(headers or {}))
    return requests.post(system.url + path, json=body, data=data,
                         headers=headers, timeout=30)


def _create(system, name, password):
    flavor = h.api(system, 'GET', '/v2.1/flavors').json()['flavors'][0]
    image = h.api(system, 'GET', '/image/v2/images').json()['images'][0]
    resp = _post(system, '/v2.1/servers', {'server': {
        'name': name, 'flavorRef': flavor['id'], 'imageRef': image['id'],
        'networks': 'auto', 'adminPass': password}})
    assert resp.status_code == 202, resp.text
    assert resp.json()['server']['adminPass'] == password
    return resp.json()['server']['id']


def _rescue(system, server_id, password):
    resp = _post(system, '/v2.1/servers/%s/action' % server_id,
                 {'rescue': {'adminPass': password}})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {'adminPass': password}


def _change_password(system, server_id, password):
    resp = _post(system, '/v2.1/servers/%s/action' % server_id,
                 {'changePassword': {'adminPass': password}})
    assert resp.status_code == 202, resp.text
    assert password not in resp.text


def _bad_requests(system, server_id):
    """(what, response) of requests refused with 400."""
    action = '/v2.1/servers/%s/action' % server_id
    server = {'name': 'x', 'flavorRef': '1', 'networks': 'auto',
              'imageRef': h.api(system, 'GET', '/image/v2/images').json()[
                  'images'][0]['id']}
    sent = [
        ('unknown key beside the secrets', '/v2.1/servers', {'server': dict(
            server, adminPass=BAD_PASS, user_data=BAD_USER_DATA, bogus=1)}),
        ('user_data not base64', '/v2.1/servers', {'server': dict(
            server, user_data=BAD_USER_DATA)}),
        ('user_data not a string', '/v2.1/servers', {'server': dict(
            server, user_data=[BAD_USER_DATA])}),
        ('adminPass not a string', '/v2.1/servers', {'server': dict(
            server, adminPass={BAD_PASS: BAD_PASS})}),
        ('rescue with an unknown key', action,
         {'rescue': {'adminPass': BAD_PASS, 'x': 1}}),
        ('rescue adminPass not a string', action,
         {'rescue': {'adminPass': [BAD_PASS]}}),
        ('rebuild without imageRef', action,
         {'rebuild': {'adminPass': BAD_PASS}}),
        ('evacuate with an unknown key', action,
         {'evacuate': {'adminPass': BAD_PASS, 'bogus': 1}}),
        ('changePassword with an unknown key', action,
         {'changePassword': {'adminPass': BAD_PASS, 'bogus': 1}}),
        ('changePassword adminPass not a string', action,
         {'changePassword': {'adminPass': {BAD_PASS: BAD_PASS}}}),
    ]
    out = [(what, _post(system, path, body)) for what, path, body in sent]
    raw = [
        ('malformed JSON', '/v2.1/servers',
         ('{"server": {"adminPass": "%s", "user_data": "%s", '
          % (BAD_PASS, BAD_USER_DATA)).encode()),
        ('NUL in a string', '/v2.1/servers',
         ('{"server": {"adminPass": "%s\\u0000", "user_data": "%s"}}'
          % (BAD_PASS, BAD_USER_DATA)).encode()),
        ('not UTF-8', action,
         b'{"rescue": {"adminPass": "' + BAD_PASS.encode() + b'\xff"}}'),
    ]
    out += [(what, _post(system, path, data=data,
                         headers={'Content-Type': 'application/json'}))
            for what, path, data in raw]
    return out


def _database_texts():
    """(table, text) of every non-empty value of every row of every
    table."""
    engine = session.get_engine()
    out = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text('SELECT * FROM "%s"' % table)):
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        value = value.decode('utf-8', 'replace')
                    out.append((table, str(value)))
    return out


def _state_files(state_dir):
    for top, dirs, files in os.walk(state_dir):
        for name in dirs + files:
            yield os.path.join(top, name)


def _sealed_passwords(flow_name):
    with session.get_engine().connect() as conn:
        metas = conn.execute(sa.text(
            "SELECT meta FROM flowdetails WHERE name = :name"),
            {'name': flow_name}).scalars().all()
    import json
    return [json.loads(m)['store'][keys.PARAMS][keys.SEALED_ADMIN_PASSWORD]
            for m in metas]


def test_no_password_or_token_is_kept_logged_or_echoed(request, node, logs):
    system = node
    # (a) a create with a password.
    server_id = _create(system, 'secret-grep-vm', CREATE_PASS)
    h.wait_stable(system, server_id, 'ACTIVE')
    # (b) a rescue with a password: the host gets it.
    _rescue(system, server_id, RESCUE_PASS)
    h.wait_stable(system, server_id, 'RESCUE')
    _host, guest = h.guest(system, server_id)
    assert guest['rescue']['password_sha256'] == hashlib.sha256(
        RESCUE_PASS.encode()).hexdigest()
    h.act(system, server_id, {'unrescue': None})
    h.wait_stable(system, server_id, 'ACTIVE')
    # (e) a password change: the host gets it.
    _change_password(system, server_id, CHANGED_PASS)
    h.wait_stable(system, server_id, 'ACTIVE')
    _host, guest = h.guest(system, server_id)
    assert guest['admin_password_sha256'] == hashlib.sha256(
        CHANGED_PASS.encode()).hexdigest()
    # (c) failed flows: a rescue whose host call fails, a create whose
    # spawn fails everywhere.
    h.inject(system, {'rescue': 'raise'})
    _rescue(system, server_id, FAILED_RESCUE_PASS)
    h.wait_stable(system, server_id, 'ACTIVE')
    h.inject(system, {'set_admin_password': 'raise'})
    _change_password(system, server_id, FAILED_CHANGED_PASS)
    h.wait_stable(system, server_id, 'ACTIVE')
    h.inject(system, {'spawn': 'raise'})
    failed_id = _create(system, 'secret-grep-failed', FAILED_CREATE_PASS)
    failed = h.wait_stable(system, failed_id, 'ERROR')
    h.inject(system, {})
    # (d) bad requests: nothing echoed.
    for what, resp in _bad_requests(system, server_id):
        assert resp.status_code == 400, (what, resp.status_code, resp.text)
        for marker in MARKERS:
            assert marker not in resp.text, (what, resp.text)

    # What every caller reads of a failure: no traceback, no path.
    fault = failed['fault']
    assert 'Injected fault in spawn' in fault['message'], fault
    assert 'Traceback' in fault['details']  # an administrator's view
    actions = [a for i in (server_id, failed_id) for a in h.api(
        system, 'GET', '/v2.1/servers/%s/os-instance-actions' % i).json()[
            'instanceActions']]
    assert [a['message'] for a in actions if a['action'] == 'rescue'] == [
        'Error', None] or any(
        'Injected fault in rescue' in (a['message'] or '')
        for a in actions), actions
    with session.get_engine().connect() as conn:
        stored = conn.execute(sa.text(
            'SELECT message FROM instance_faults UNION ALL '
            'SELECT message FROM instance_actions')).scalars().all()
    assert 'Injected fault in rescue on compute-' in ' '.join(
        m or '' for m in stored)
    for message in [fault['message']] + [m for m in stored if m]:
        assert 'Traceback' not in message, message
        assert not PATH.search(message), message
    check_after_test(request, system)

    # The failure logging that printed the store was exercised.
    log_text = logs.text()
    assert 'Job execution failed' in log_text
    # The store holds the rescue passwords sealed, for a resumed flow.
    sealed = _sealed_passwords('orchestrator-rescue-server')
    assert sorted(secret_box.unseal(s) for s in sealed) == sorted(
        [RESCUE_PASS, FAILED_RESCUE_PASS])
    changed = _sealed_passwords('orchestrator-change-password-server')
    assert sorted(secret_box.unseal(s) for s in changed) == sorted(
        [CHANGED_PASS, FAILED_CHANGED_PASS])

    rows = _database_texts()
    tables = {table for table, _text in rows}
    assert {'flowdetails', 'atomdetails', 'logbooks', 'instances',
            'instance_actions', 'instance_actions_events',
            'instance_faults'} <= tables, tables
    # The dump sees what the flows kept: the sealed form is in it.
    assert any(sealed[0] in text for _table, text in rows)
    state_dir = system.state_dir
    files = list(_state_files(state_dir))
    found = []
    for marker in MARKERS:
        found += ['database table %s' % table for table, text in rows
                  if marker in text]
        for path in files:
            if os.path.isfile(path):
                with open(path, 'rb') as f:
                    if marker.encode() in f.read():
                        found.append('file %s' % path)
        if marker in log_text:
            found.append('log: %s' % next(
                line for line in logs.lines if marker in line)[:500])
    assert not found, '\n'.join(found)
    assert len(logs.lines) > 1000  # DEBUG of every library was captured

    # Every file under the state dir is its owner's only.
    modes = {os.path.relpath(p, state_dir): stat.S_IMODE(os.stat(p).st_mode)
             for p in files}
    modes['.'] = stat.S_IMODE(os.stat(state_dir).st_mode)
    loose = {p: oct(m) for p, m in modes.items() if m & 0o077}
    assert not loose, loose
    with session.get_engine().connect() as conn:
        every_table = sa.inspect(conn).get_table_names()
    print('\nsecret grep: %d database values of %d tables (%d with rows), '
          '%d files under the state dir, %d log records; markers %s; '
          'modes %s' % (
              len(rows), len(every_table), len(tables), len(files),
              len(logs.lines),
              ', '.join(MARKERS),
              ', '.join('%s %s' % (p, oct(m))
                        for p, m in sorted(modes.items()))))
