"""Decoding a JSON request body into values the API can store.

:func:`loads` turns the raw bytes into Python values or raises a 400
(:class:`~orchestrator.exception.Invalid`), never anything else:

* the encoding is UTF-8 (a byte order mark allowed), UTF-16 or UTF-32, as
  RFC 8259 and ``json.loads`` detect it; bytes that do not decode are
  "Malformed request body";
* nesting is bounded *before* parsing: more than :data:`MAX_DEPTH`
  arrays and objects inside each other is a 400 (the parser recursed
  until ``RecursionError`` on ``'[' * 50000``); the scan is linear;
* ``NaN``, ``Infinity`` and numbers too large for a float (``1e999``)
  are refused: JSON has no such numbers;
* every string, key or value, must be storable text: no NUL character
  (PostgreSQL refuses it) and no lone surrogate (``"\\ud800"`` is valid
  JSON, but not encodable to UTF-8 for the database).
"""

import json
import re

from orchestrator import exception

#: Deepest nesting of arrays and objects accepted; the deepest body of the
#: Compute API (a block device mapping inside the server) has 4.
MAX_DEPTH = 32

#: The characters that open or close a string, an array or an object, and
#: the escape character.
_STRUCTURE = re.compile(r'[\[\]{}"\\]')


def _malformed(reason=None):
    return exception.Invalid('Malformed request body' +
                             (': %s' % reason if reason else ''))


def nesting_depth(text, limit):
    """The nesting depth of arrays and objects in JSON ``text``, counting
    only until it passes ``limit`` (the result is then ``limit + 1``).
    Brackets inside strings do not count. Linear in ``len(text)``."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _STRUCTURE.finditer(text):
        pos = match.start()
        if pos == escaped_at:
            continue
        char = text[pos]
        if in_string:
            if char == '\\':
                escaped_at = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in '[{':
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif char in ']}':
            depth -= 1
    return deepest


def _refuse_constant(name):
    raise ValueError('%s is not a JSON number' % name)


def _finite_float(text):
    number = float(text)
    if number in (float('inf'), float('-inf')):
        raise ValueError('%s is too large a number' % text)
    return number


def _check_strings(value):
    """Raise a 400 if any string in ``value`` cannot be stored."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            if '\x00' in node:
                raise _malformed('a string contains a NUL character')
            try:
                node.encode('utf-8')
            except UnicodeEncodeError:
                raise _malformed('a string contains a lone surrogate '
                                 '(\\ud800 to \\udfff)') from None


def loads(raw):
    """The JSON value of the body ``raw`` (bytes); see the module's
    contract.

    :raises Invalid: empty, not JSON, too deep, or unstorable strings.
    """
    if not raw:
        raise _malformed('the body is empty, a JSON object is expected')
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError):
        raise _malformed() from None
    if nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        raise _malformed('arrays and objects are nested more than %d '
                         'deep' % MAX_DEPTH)
    try:
        value = json.loads(text, parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except ValueError:
        raise _malformed() from None
    _check_strings(value)
    return value
