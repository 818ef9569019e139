"""Request body validation with jsonschema (schemas in ``schemas/``).

:func:`validate` raises a 400 whose message names the field, the value
and what is wrong with it, in Nova's words ("Invalid input for
field/attribute name. Value: 1. 1 is not of type 'string'"), never a 500,
and never with the value of a password or of user_data
(:data:`SECRET_FIELDS`).

Formats checked (jsonschema's own checker plus ours): ``uuid``,
``ipv4``, ``ipv6``, ``base64`` and ``name`` (no leading or trailing
whitespace, printable characters only).
"""

import base64
import binascii
import ipaddress
import uuid

import jsonschema

from orchestrator import exception

FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks('uuid')
def _is_uuid(value):
    if not isinstance(value, str):
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def is_uuid(text):
    """True when ``text`` (a string) is a uuid in any of its spellings."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks('ipv4')
def _is_ipv4(value):
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks('ipv6')
def _is_ipv6(value):
    if not isinstance(value, str):
        return True
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


@FORMAT_CHECKER.checks('base64')
def _is_base64(value):
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


@FORMAT_CHECKER.checks('name')
def _is_name(value):
    if not isinstance(value, str):
        return True
    return value == value.strip() and value.isprintable()


_FORMAT_REASONS = {
    'name': 'leading or trailing whitespace, or characters that are not '
            'printable',
    'base64': 'not valid base64',
}


#: Body fields whose values are secrets: an error never repeats them.
#: user_data too: a guest's first-boot script often holds credentials.
SECRET_FIELDS = frozenset(['adminPass', 'admin_password', 'password',
                           'user_data'])
HIDDEN = '***'


def _redacted(value):
    """``value`` with every secret field's value replaced by HIDDEN."""
    if isinstance(value, dict):
        return {k: HIDDEN if k in SECRET_FIELDS else _redacted(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _describe(error):
    """(field, value, reason) of a jsonschema error, in Nova's manner,
    with no secret in them: a secret field's own value is HIDDEN and the
    reason says only which check failed; a value holding secret fields
    shows them HIDDEN."""
    path = [str(p) for p in error.absolute_path]
    if SECRET_FIELDS.intersection(path):
        return ([p for p in path if p in SECRET_FIELDS][-1], HIDDEN,
                'The value is not valid (%s: %r)'
                % (error.validator, error.validator_value))
    # NOTE(api): for 'required' and 'additionalProperties' the path ends
    # at the object that lacks (or has too many) properties: Nova names
    # that object too ("field/attribute server").
    field = path[-1] if path else 'body'
    shown = _redacted(error.instance)
    # NOTE(api): jsonschema's messages quote the instance with repr().
    reason = error.message.replace(repr(error.instance), repr(shown))
    if error.validator == 'format':
        reason = "'%s' is not a '%s': %s" % (
            error.instance, error.validator_value,
            _FORMAT_REASONS.get(error.validator_value, 'wrong format'))
    return field, shown, reason


def _reason_value(value):
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + '...'


def validate(body, schema):
    """Check ``body`` against ``schema``.

    :raises ValidationError: with the first (most relevant) violation,
        never quoting a value of :data:`SECRET_FIELDS`.
    """
    validator = jsonschema.Draft4Validator(schema,
                                           format_checker=FORMAT_CHECKER)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is None:
        return
    field, value, reason = _describe(error)
    raise exception.ValidationError(
        'Invalid input for field/attribute %s. Value: %s. %s'
        % (field, _reason_value(value), reason))
