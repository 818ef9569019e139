"""No secret in a log line, a stored fault or event, or a context that
crosses a boundary (orchestrator.redaction, orchestrator.context)."""

import json
import logging

import pytest
from taskflow.jobs import base as tf_jobs
from taskflow.types import failure as tf_failure

from orchestrator import context as orch_context
from orchestrator import exception
from orchestrator import redaction
from orchestrator import rpc
from orchestrator.conductor import jobboard_sql

PASSWORD = 'Pw-8d1f0c'
TOKEN = 'Tok-3b7e55'


def _store():
    ctxt = {'user': 'u', 'auth_token': TOKEN,
            'auth_token_info': {'token': {'id': TOKEN,
                                          'catalog': [{'x': '}'}]}}}
    return {'context': ctxt, 'instance_uuid': 'abc',
            'params': {'admin_password': PASSWORD, 'rescue_image_ref': None}}


@pytest.mark.parametrize('text', [
    repr(_store()),
    json.dumps(_store()),
    str({'details': {'store': _store()}}),
    'rescue(admin_password=%r, image=1)' % PASSWORD,
    'rescue(admin_password=%s, image=1)' % PASSWORD,
    'X-Auth-Token: %s\r\nAccept: */*' % TOKEN,
    'x-auth-token=%s&a=1' % TOKEN,
    '{"adminPass": "%s", "name": "vm"}' % PASSWORD,
    "{'adminPass': '%s\\'s'}" % PASSWORD,
    '{"user_data": "%s"}' % PASSWORD,
])
def test_secret_values_are_masked(text):
    masked = redaction.redact(text)
    assert PASSWORD not in masked and TOKEN not in masked, masked
    assert redaction.MASK in masked
    assert redaction.redact(masked) == masked


def test_the_rest_is_kept():
    text = repr(_store())
    masked = redaction.redact(text)
    assert "'instance_uuid': 'abc'" in masked
    assert "'rescue_image_ref': None" in masked
    assert "'auth_token': '***'" in masked
    assert "'auth_token_info': ***" in masked
    assert redaction.redact('auth_token=None, password: null') == \
        'auth_token=None, password: null'
    assert redaction.redact("password_sha256 = 'ab12'") == \
        "password_sha256 = 'ab12'"
    assert redaction.redact('no secret here') == 'no secret here'


def test_taskflows_job_line_is_masked_and_ours_shows_no_store():
    # TaskFlow's conductor logs "Job execution failed ...: %s" % job.
    job = jobboard_sql.SQLJob(None, 'orchestrator-rescue-server', 'u1', 1,
                              'NORMAL', None, None,
                              details={'flow_uuid': 'f1', 'store': _store()})
    taskflows = tf_jobs.Job.__str__(job)
    assert PASSWORD in taskflows and TOKEN in taskflows
    masked = redaction.redact(taskflows)
    assert PASSWORD not in masked and TOKEN not in masked, masked
    assert str(job) == ('SQLJob: orchestrator-rescue-server (priority='
                         'NORMAL, uuid=u1, flow=f1)')


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter('%(levelname)s %(message)s'))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def lines():
    redaction.install_log_redaction()
    redaction.install_log_redaction()  # idempotent
    handler = _Lines()
    log = logging.getLogger('tests.redaction')
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield log, handler.lines
    log.removeHandler(handler)


def test_log_records_are_masked_messages_and_tracebacks(lines):
    log, out = lines
    log.warning('Job execution failed: %s', {'store': _store()})
    try:
        raise ValueError('bad store %r' % (_store(),))
    except ValueError:
        log.exception('Failure')
    log.info('plain %s line', 'ordinary')
    text = '\n'.join(out)
    assert PASSWORD not in text and TOKEN not in text, text
    assert 'WARNING Job execution failed: ' in out[0]
    assert 'Traceback (most recent call last)' in out[1]
    assert 'ValueError: bad store' in out[1]
    assert out[2] == 'INFO plain ordinary line'


def test_a_record_without_secret_is_left_as_it_was(lines):
    log, out = lines
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    log.addHandler(keep)
    try:
        log.info('value %d', 7)
    finally:
        log.removeHandler(keep)
    assert records[0].msg == 'value %d' and records[0].args == (7,)


def _remote_failure():
    """A Failure of an orchestrator exception raised on a host, as
    oslo.messaging rebuilds it (its text ends with the host's
    traceback)."""
    error = exception.InjectedFault(method='spawn', host='compute-1')
    text = ('Injected fault in spawn on compute-1\nTraceback (most recent '
            'call last):\n  File "/srv/orchestrator/compute/manager.py", '
            'line 40, in wrapped\n')
    remote = type('InjectedFault_Remote', (exception.InjectedFault,),
                  {'__str__': lambda self: text,
                   '__module__': 'orchestrator.exception'})
    error.__class__ = remote
    try:
        raise error
    except exception.InjectedFault:
        return tf_failure.Failure()


def test_public_messages_have_no_traceback_no_path_no_secret():
    failure = _remote_failure()
    assert '/srv/orchestrator' in failure.exception_str
    assert redaction.public_message(
        failure.exception_str, tuple(failure)) == \
        'Injected fault in spawn on compute-1'
    assert redaction.public_message(
        'faults file /var/lib/orchestrator/fake-hosts/h.faults.json is '
        'bad', ('orchestrator.exception.Invalid',)) == \
        'faults file <path> is bad'
    assert redaction.public_message(
        'image http://glance/v2/images/1 gone') == \
        'image http://glance/v2/images/1 gone'
    # Not ours: the class name only, as Nova.
    assert redaction.public_message(
        "[Errno 13] Permission denied: '/var/lib/x'",
        ('builtins.PermissionError', 'builtins.OSError')) == \
        'PermissionError'
    assert redaction.public_error(KeyError('/etc/secret')) == 'KeyError'
    assert redaction.public_error(
        exception.Invalid(reason='admin_password=%s' % PASSWORD)) == \
        'Invalid input: admin_password=***'


def test_fault_details_keep_the_traceback_without_secrets():
    from flows import base
    try:
        raise exception.Invalid(reason='params %r' % (_store()['params'],))
    except exception.Invalid:
        failure = tf_failure.Failure()
    message, details = base.describe_failure(failure)
    assert PASSWORD not in message and PASSWORD not in details
    assert 'Traceback' in details and __file__ in details
    message, details = base.describe_failure(_remote_failure())
    assert message == 'Injected fault in spawn on compute-1'


def test_a_context_leaves_without_its_token():
    ctxt = orch_context.RequestContext(
        user_id='u', project_id='p', auth_token=TOKEN, is_admin=False)
    ctxt.auth_token_info = {'token': TOKEN}
    values = ctxt.to_dict()
    assert 'auth_token' not in values and 'auth_token_info' not in values
    assert values['user'] == 'u' and values['is_admin'] is False
    assert TOKEN not in json.dumps(values)
    serializer = rpc.ContextSerializer()
    assert TOKEN not in json.dumps(serializer.serialize_context(ctxt))
    assert TOKEN not in json.dumps(serializer.serialize_context(
        dict(values, auth_token=TOKEN, auth_token_info={'t': TOKEN})))
    # The token stays usable where it arrived.
    assert ctxt.auth_token == TOKEN
    back = orch_context.from_store(values)
    assert back.user_id == 'u' and back.auth_token is None
