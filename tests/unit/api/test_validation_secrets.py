"""A 400 for an invalid body never repeats a password (a finding of the
API fuzz test: 'Value: {'adminPass': '...', ...}' quoted it whole)."""

import pytest

from orchestrator import exception
from orchestrator.api import validation
from orchestrator.api.schemas import server_actions as action_schemas
from orchestrator.api.schemas import server_actions_admin as admin_schemas
from orchestrator.api.schemas import servers as server_schemas

from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance

SECRET = 'S3cret-pass'
#: A valid base64 user_data (the secret a first-boot script holds).
SECRET_B64 = 'UzNjcmV0LXVzZXItZGF0YQ=='

REBUILD = action_schemas.rebuild((2, 79))


@pytest.mark.parametrize('schema,body,field', [
    # An extra or missing property: the whole object is quoted.
    (REBUILD,
     {'rebuild': {'adminPass': SECRET, 'imageRef': CIRROS, 'x': 1}},
     'rebuild'),
    (REBUILD, {'rebuild': {'adminPass': SECRET}}, 'rebuild'),
    (action_schemas.RESCUE, {'rescue': {'adminPass': SECRET, 'x': 1}},
     'rescue'),
    (admin_schemas.evacuate((2, 29)),
     {'evacuate': {'adminPass': SECRET, 'bad': 1}}, 'evacuate'),
    # The password itself is invalid: its value and jsonschema's reason
    # (which quotes it) are both left out.
    (REBUILD,
     {'rebuild': {'adminPass': [SECRET], 'imageRef': CIRROS}}, 'adminPass'),
    (action_schemas.RESCUE, {'rescue': {'adminPass': {SECRET: SECRET}}},
     'adminPass'),
    # The object holding it has the wrong type.
    (REBUILD, {'rebuild': [{'adminPass': SECRET}]},
     'rebuild'),
    (server_schemas.create((2, 47)),
     {'server': {'name': 'a', 'flavorRef': '1', 'networks': 'auto',
                 'adminPass': SECRET, 'x': 1}}, 'server'),
    # user_data: not base64, not a string, or beside an unknown key.
    (server_schemas.create((2, 47)),
     {'server': {'name': 'a', 'flavorRef': '1', 'networks': 'auto',
                 'user_data': SECRET}}, 'user_data'),
    (server_schemas.create((2, 47)),
     {'server': {'name': 'a', 'flavorRef': '1', 'networks': 'auto',
                 'user_data': [SECRET]}}, 'user_data'),
    (server_schemas.create((2, 47)),
     {'server': {'name': 'a', 'flavorRef': '1', 'networks': 'auto',
                 'user_data': SECRET_B64, 'x': 1}}, 'server'),
])
def test_invalid_bodies_never_quote_the_password(schema, body, field):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(body, schema)
    message = str(caught.value)
    assert SECRET not in message and SECRET_B64 not in message
    assert 'field/attribute %s.' % field in message
    assert validation.HIDDEN in message


def test_other_values_are_still_quoted():
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate({'rebuild': {'imageRef': 7}},
                            REBUILD)
    assert "Value: 7. 7 is not of type 'string'" in str(caught.value)


def test_through_the_api(app, conductor):
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'rebuild': {'imageRef': CIRROS, 'adminPass': SECRET,
                             'x': 1}})
    assert resp.status_int == 400
    assert SECRET.encode() not in resp.body
    assert "'adminPass': '***'" in resp.json['badRequest']['message']


@pytest.mark.parametrize('body', [
    b'{"server": {"adminPass": "%s", "user_data": "%s", ' % (
        SECRET.encode(), SECRET_B64.encode()),
    b'{"server": {"adminPass": "%s\\u0000"}}' % SECRET.encode(),
    b'{"rescue": {"adminPass": "%s\xff"}}' % SECRET.encode(),
])
def test_malformed_bodies_never_quote_them(app, conductor, body):
    resp = call(app, 'POST', '/v2.1/servers', raw=body)
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'].startswith(
        'Malformed request body')
    assert SECRET.encode() not in resp.body
    assert SECRET_B64.encode() not in resp.body
