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


@pytest.mark.parametrize('schema,body,field', [
    # An extra or missing property: the whole object is quoted.
    (action_schemas.REBUILD,
     {'rebuild': {'adminPass': SECRET, 'imageRef': CIRROS, 'x': 1}},
     'rebuild'),
    (action_schemas.REBUILD, {'rebuild': {'adminPass': SECRET}}, 'rebuild'),
    (action_schemas.RESCUE, {'rescue': {'adminPass': SECRET, 'x': 1}},
     'rescue'),
    (admin_schemas.evacuate((2, 29)),
     {'evacuate': {'adminPass': SECRET, 'bad': 1}}, 'evacuate'),
    # The password itself is invalid: its value and jsonschema's reason
    # (which quotes it) are both left out.
    (action_schemas.REBUILD,
     {'rebuild': {'adminPass': [SECRET], 'imageRef': CIRROS}}, 'adminPass'),
    (action_schemas.RESCUE, {'rescue': {'adminPass': {SECRET: SECRET}}},
     'adminPass'),
    # The object holding it has the wrong type.
    (action_schemas.REBUILD, {'rebuild': [{'adminPass': SECRET}]},
     'rebuild'),
    (server_schemas.create((2, 47)),
     {'server': {'name': 'a', 'flavorRef': '1', 'networks': 'auto',
                 'adminPass': SECRET, 'x': 1}}, 'server'),
])
def test_invalid_bodies_never_quote_the_password(schema, body, field):
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate(body, schema)
    message = str(caught.value)
    assert SECRET not in message
    assert 'field/attribute %s.' % field in message
    assert validation.HIDDEN in message


def test_other_values_are_still_quoted():
    with pytest.raises(exception.ValidationError) as caught:
        validation.validate({'rebuild': {'imageRef': 7}},
                            action_schemas.REBUILD)
    assert "Value: 7. 7 is not of type 'string'" in str(caught.value)


def test_through_the_api(app, conductor):
    instance = make_instance('active', host='h1')
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'rebuild': {'imageRef': CIRROS, 'adminPass': SECRET,
                             'x': 1}})
    assert resp.status_int == 400
    assert SECRET.encode() not in resp.body
    assert "'adminPass': '***'" in resp.json['badRequest']['message']
