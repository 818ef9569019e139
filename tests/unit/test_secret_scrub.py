"""Secrets an older version kept are taken out of the database
(orchestrator.secret_scrub), on a real SQLite database with TaskFlow's
persistence and the SQL jobboard."""

import glob
import json

from oslo_config import cfg
import sqlalchemy as sa
from taskflow.persistence.backends import impl_sqlalchemy

from orchestrator import secret_box
from orchestrator import secret_scrub
from orchestrator import state_machine
from orchestrator import states
from orchestrator.cmd import manage
from orchestrator.conductor import jobboards
from orchestrator.conductor import jobs
from orchestrator.db import instances
from orchestrator.db import models
from orchestrator.db import pending_requests
from orchestrator.db import session

from flows import keys
from flows import rescue as rescue_flow
from flows.tasks import rescue
from tests.unit.api.conftest import make_instance

PASSWORD = 'legacy-rescue-pass-7c2e'
TOKEN = 'legacy-token-91ab4f'


def _legacy_rescue(conf):
    """A rescue accepted and posted as an older version did: the token
    in every context, the password in the clear in every params."""
    inst = make_instance(states.ACTIVE, host='h1')
    claimed, action = instances.claim(
        inst['uuid'], state_machine.RESCUE,
        {'request_id': 'r2', 'user_id': 'u', 'project_id': 'p'})
    context = {'user': 'u', 'project_id': 'p', 'auth_token': TOKEN,
               'auth_token_info': {'token': {'id': TOKEN}}}
    params = {'admin_password': PASSWORD, 'rescue_image_ref': None}
    store = {keys.CONTEXT: context, keys.INSTANCE_UUID: inst['uuid'],
             keys.TASK_ID: claimed['task_id'], keys.ACTION_ID: action['id'],
             keys.PARAMS: params}
    persistence = impl_sqlalchemy.SQLAlchemyBackend(
        {}, engine=session.get_engine())
    board = jobboards.fetch(conf, persistence)
    jobs.JobPoster(board, persistence).post(rescue_flow, store,
                                            claimed['task_id'])
    # The request as the API recorded it before its post.
    pending_requests.record(action['id'], {
        'method': 'start_action', 'context': context,
        'extra': {'operation': 'rescue', 'params': params}})
    return board, action


def _database_text():
    engine = session.get_engine()
    out = []
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text('SELECT * FROM "%s"' % table)):
                out.extend(str(v) for v in row if v is not None)
    return '\n'.join(out)


def _database_files_hold(marker):
    database = session.get_engine().url.database
    for path in glob.glob(database + '*'):
        with open(path, 'rb') as f:
            if marker.encode() in f.read():
                return path
    return None


def test_scrub_seals_passwords_and_drops_tokens_everywhere(db, conf):
    board, action = _legacy_rescue(conf)
    before = _database_text()
    assert PASSWORD in before and TOKEN in before

    counts = secret_scrub.scrub(session.get_engine())
    assert counts == {'flowdetails.meta': 1, 'atomdetails.results': 1,
                      'jobs.details': 1, 'instance_actions.pending_request': 1}
    after = _database_text()
    assert PASSWORD not in after and TOKEN not in after
    for marker in (PASSWORD, TOKEN):
        assert _database_files_hold(marker) is None, marker

    # What the flow and its job hold still runs the rescue.
    with session.get_engine().connect() as conn:
        meta = json.loads(conn.execute(sa.text(
            'SELECT meta FROM flowdetails')).scalar_one())
    store = meta['store']
    assert rescue.rescue_password(store[keys.PARAMS]) == PASSWORD
    assert store[keys.PARAMS]['rescue_image_ref'] is None
    assert store[keys.CONTEXT] == {'user': 'u', 'project_id': 'p'}
    (job,) = list(board.iterjobs(ensure_fresh=True))
    assert rescue.rescue_password(
        job.details['store'][keys.PARAMS]) == PASSWORD
    pending = instances_action_request(action['id'])
    assert rescue.rescue_password(pending['extra']['params']) == PASSWORD
    assert 'auth_token' not in pending['context']

    # Again: nothing left to do.
    assert set(secret_scrub.scrub(session.get_engine()).values()) == {0}


def instances_action_request(action_id):
    with session.reader() as s:
        return s.execute(sa.select(models.InstanceAction.pending_request)
                         .where(models.InstanceAction.id == action_id)
                         ).scalar_one()


def test_scrub_document():
    sealed = []

    def seal(password):
        sealed.append(password)
        return 'sealed:' + password

    document = {'store': {'context': {'auth_token': 't', 'user': 'u'},
                          'params': {'admin_password': 'p', 'x': 1}},
                'list': [{'context': {'auth_token_info': {}}}],
                'other': {'password': 'not a store'}}
    clean, changed = secret_scrub.scrub_document(document, seal)
    assert changed and sealed == ['p']
    assert clean == {
        'store': {'context': {'user': 'u'},
                  'params': {keys.SEALED_ADMIN_PASSWORD: 'sealed:p',
                             'x': 1}},
        'list': [{'context': {}}],
        'other': {'password': 'not a store'}}
    assert secret_scrub.scrub_document(clean, seal) == (clean, False)


def _manage(tmp_path, connection, *argv):
    """orchestrator-manage on a fresh ConfigOpts and a config file."""
    config = tmp_path / 'manage.conf'
    config.write_text('[DEFAULT]\nsecrets_key_file = %s\n[database]\n'
                      'connection = %s\n' % (tmp_path / 'keys' / 'secrets.key',
                                             connection))
    return manage.main(['--config-file', str(config)] + list(argv),
                       conf=cfg.ConfigOpts())


def test_manage_secrets_create_key_then_scrub(db, conf, tmp_path, capsys):
    connection = conf.database.connection
    _legacy_rescue(conf)
    path = str(tmp_path / 'keys' / 'secrets.key')
    assert _manage(tmp_path, connection, 'secrets', 'create-key') == 0
    assert 'Created %s (mode 0600)' % path in capsys.readouterr().out
    with open(path, 'rb') as f:
        first = f.read()
    assert _manage(tmp_path, connection, 'secrets', 'create-key') == 0
    assert 'exists; left as it is' in capsys.readouterr().out
    with open(path, 'rb') as f:
        assert f.read() == first

    assert _manage(tmp_path, connection, 'secrets', 'scrub') == 0
    out = capsys.readouterr().out
    assert 'flowdetails.meta: 1 rewritten' in out, out
    assert 'instance_actions.pending_request: 1 rewritten' in out, out
    session.configure(connection)
    assert PASSWORD not in _database_text()
    # Sealed with the key file the command was given.
    conf.set_override('secrets_key_file', path)
    with session.get_engine().connect() as conn:
        meta = json.loads(conn.execute(sa.text(
            'SELECT meta FROM flowdetails')).scalar_one())
    assert rescue.rescue_password(meta['store'][keys.PARAMS]) == PASSWORD
    secret_box.check(conf)
