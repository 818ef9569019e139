"""tempest.lib's response schemas as the oracle of response shapes."""

import importlib

import jsonschema
from tempest.lib.common import jsonschema_validator


def schema(version_module, resource, name):
    """tempest.lib.api_schema.response.compute.<version_module>.<resource>
    .<name>, e.g. ``schema('v2_47', 'servers', 'get_server')``."""
    module = importlib.import_module(
        'tempest.lib.api_schema.response.compute.%s.%s'
        % (version_module, resource))
    return getattr(module, name)


def check(response, version_module, resource, name):
    """Assert the response's status and body match the tempest schema."""
    expected = schema(version_module, resource, name)
    assert response.status_int in expected['status_code'], (
        response.status, response.text)
    body_schema = expected.get('response_body')
    if body_schema:
        validate(response.json, version_module, resource, name)
    else:
        assert not response.body, response.body
    return response.json if body_schema else None


def validate(body, version_module, resource, name):
    """Assert ``body`` matches the tempest schema's response body (for a
    body built without a request, e.g. at a microversion the API does
    not serve yet)."""
    jsonschema.validate(
        body, schema(version_module, resource, name)['response_body'],
        cls=jsonschema_validator.JSONSCHEMA_VALIDATOR,
        format_checker=jsonschema_validator.FORMAT_CHECKER)
