"""The ``name`` filter of GET /servers runs in linear time (issue 10,
item 5): a pattern that backtracks catastrophically in Python's ``re``
must not freeze the process."""

import faulthandler
import time

import pytest

from orchestrator.api import name_filter
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

#: ``^(a|a)*$b`` percent-encoded, as the issue sent it.
EVIL = '%5E(a%7Ca)*%24b'


@pytest.fixture
def watchdog():
    """Ends the process (with every thread's stack) if the test hangs: a
    regex engine that backtracks holds the GIL, so no Python-level
    timeout could fire."""
    faulthandler.dump_traceback_later(30, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def _names(app, query):
    resp = call(app, 'GET', '/v2.1/servers?' + query)
    assert resp.status_int == 200, resp.text
    return {s['name'] for s in resp.json['servers']}


def test_catastrophic_pattern_answers_at_once(app, watchdog):
    make_instance('active', display_name='a' * 63)
    started = time.monotonic()
    assert _names(app, 'name=' + EVIL) == set()
    assert time.monotonic() - started < 1.0
    # The same pattern without the impossible tail matches the name.
    started = time.monotonic()
    assert _names(app, 'name=%5E(a%7Ca)*%24') == {'a' * 63}
    assert time.monotonic() - started < 1.0


def test_regex_syntax_clients_use(app):
    make_instance('active', display_name='web-12')
    make_instance('active', display_name='Web-3')
    make_instance('active', display_name='db-1')
    assert _names(app, 'name=web') == {'web-12'}
    assert _names(app, 'name=%5E(web%7Cdb)-%5Cd%24') == {'db-1'}
    assert _names(app, 'name=(%3Fi)%5Eweb') == {'web-12', 'Web-3'}
    assert _names(app, 'name=-%5B0-9%5D%7B2%7D') == {'web-12'}


def test_pattern_re2_refuses_is_a_literal(app):
    """Backreferences and lookaround have no linear-time algorithm: such a
    pattern (like an invalid one) is matched as a literal substring."""
    make_instance('active', display_name='x(a)\\1y')
    make_instance('active', display_name='aa')
    make_instance('active', display_name='[abc')
    assert _names(app, 'name=(a)%5C1') == {'x(a)\\1y'}
    assert _names(app, 'name=%5B') == {'[abc'}
    assert _names(app, 'name=a(%3F%3Da)') == set()


def test_pattern_length_is_bounded(app):
    make_instance('active', display_name='vm')
    limit = name_filter.MAX_PATTERN_LENGTH
    assert _names(app, 'name=' + 'v?' * (limit // 2)) == {'vm'}
    resp = call(app, 'GET', '/v2.1/servers?name=' + 'v' * (limit + 1))
    assert resp.status_int == 400
    assert resp.json == {'badRequest': {
        'code': 400,
        'message': 'The name filter is too long: %d characters, at most %d '
                   'are allowed.' % (limit + 1, limit)}}


def test_huge_program_is_a_literal_not_a_memory_hog():
    match = name_filter.matcher('((a{100}){100}){100}')
    assert match({'display_name': 'a' * 255}) is False
    assert match({'display_name': 'x((a{100}){100}){100}'}) is True
    assert name_filter.matcher(None) is None
