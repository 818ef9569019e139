"""tempest.lib's response schemas as the oracle of response shapes."""

import functools
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


@functools.lru_cache(maxsize=None)
def _validator(version_module, resource, name):
    """The validator of one tempest response body schema, the schema
    itself checked once (``jsonschema.validate`` checks it again on every
    call: most of the time of a test validating many bodies)."""
    body_schema = schema(version_module, resource, name)['response_body']
    cls = jsonschema_validator.JSONSCHEMA_VALIDATOR
    cls.check_schema(body_schema)
    return cls(body_schema,
               format_checker=jsonschema_validator.FORMAT_CHECKER)


def validate(body, version_module, resource, name):
    """Assert ``body`` matches the tempest schema's response body (for a
    body built without a request, e.g. at a microversion the API does
    not serve yet).

    :raises jsonschema.ValidationError: the most relevant of its errors,
        as ``jsonschema.validate`` raises it.
    """
    validator = _validator(version_module, resource, name)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise error
