"""Compute API microversions: parsing the request headers, echoing them.

A client asks for a microversion with ``OpenStack-API-Version: compute 2.x``
(or ``compute latest``) or with the older ``X-OpenStack-Nova-API-Version:
2.x``; the first wins when both are sent. No header means the minimum,
2.1. A malformed version string is a 400; a well-formed one outside
[:data:`MIN_VERSION`, :data:`MAX_VERSION`] is a 406 (however many digits
it has: ``2.<5000 nines>`` is never made an integer). Error messages
quote at most :data:`MAX_ECHO` characters of what the client sent. Every
response under ``/v2.1`` carries both headers with the version served,
and ``Vary`` on both, so caches keep the versions apart.
"""

import re
import typing

from orchestrator import exception

SERVICE = 'compute'
HEADER = 'OpenStack-API-Version'
LEGACY_HEADER = 'X-OpenStack-Nova-API-Version'

_VERSION_RE = re.compile(r'^([1-9]\d*)\.([1-9]\d*|0)$', re.ASCII)

#: Digits of a version number parsed; longer numbers are out of range.
_MAX_DIGITS = 6
#: Characters of a client's version string quoted in an error message.
MAX_ECHO = 64


def _echo(text):
    text = (text or '').strip()
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + '...'


class APIVersion(typing.NamedTuple):
    """A microversion; tuples compare the way versions do."""

    major: int
    minor: int

    def __str__(self):
        return '%d.%d' % (self.major, self.minor)


MIN_VERSION = APIVersion(2, 1)
#: 2.79: the newest Compute API microversion served (docs/microversions.md
#: lists what each one after 2.47 changes here).
MAX_VERSION = APIVersion(2, 79)


def _out_of_range(text):
    return exception.VersionNotAcceptable(
        version=_echo(text), min=MIN_VERSION, max=MAX_VERSION)


def parse(text):
    """``'2.19'`` -> APIVersion(2, 19).

    :raises Invalid: malformed (400).
    :raises VersionNotAcceptable: a number of more than six digits (406).
    """
    match = _VERSION_RE.match((text or '').strip())
    if match is None:
        raise exception.Invalid(
            'API Version String %s is of invalid format. Must be of format '
            'MajorNum.MinorNum.' % _echo(text))
    if any(len(number) > _MAX_DIGITS for number in match.groups()):
        raise _out_of_range(text)
    return APIVersion(int(match.group(1)), int(match.group(2)))


def _requested(headers):
    """The version string the client asked for, or None."""
    value = headers.get(HEADER)
    if value:
        for item in value.split(','):
            parts = item.strip().split(None, 1)
            if parts and parts[0].lower() == SERVICE:
                # NOTE(api): "compute" alone is malformed, not a default.
                return parts[1] if len(parts) == 2 else ''
    return headers.get(LEGACY_HEADER)


def from_headers(headers):
    """The microversion a request asks for.

    :raises Invalid: malformed version string (400).
    :raises VersionNotAcceptable: outside the supported range (406).
    """
    text = _requested(headers)
    if text is None:
        return MIN_VERSION
    if text.strip().lower() == 'latest':
        return MAX_VERSION
    version = parse(text)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise _out_of_range(text)
    return version


def response_headers(version):
    """The headers that tell a client which microversion it was served."""
    return {HEADER: '%s %s' % (SERVICE, version),
            LEGACY_HEADER: str(version),
            'Vary': '%s, %s' % (HEADER, LEGACY_HEADER)}
