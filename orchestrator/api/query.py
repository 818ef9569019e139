"""Query string parameters: limits, markers, integers and booleans; and
integer ids in paths.

Every parser raises a 400 with a message naming the parameter; none
lets a bad value through to the database: an integer compared with an
integer column is within :data:`MAX_DB_INT` (SQLite raised an overflow
error, a 500, for ``/servers/{id}/migrations/99999999999999999999``).
"""

from urllib.parse import urlencode

from oslo_utils import timeutils

from orchestrator import exception

_TRUE = ('1', 't', 'true', 'on', 'y', 'yes')
_FALSE = ('0', 'f', 'false', 'off', 'n', 'no')


#: The largest value of an Integer column (32-bit signed on PostgreSQL and
#: MySQL); ids and filters compared with one are at most this.
MAX_DB_INT = 2 ** 31 - 1


def db_integer(text):
    """``text`` as an int in [-MAX_DB_INT, MAX_DB_INT], or None when it is
    not a decimal integer in that range (leading zeros, a sign and
    surrounding spaces are accepted, as ``int()`` does; only ASCII
    digits)."""
    text = text.strip()
    digits = text[1:] if text[:1] in '+-' else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    number = int(text)
    return number if -MAX_DB_INT <= number <= MAX_DB_INT else None


def one(req, name):
    """The single value of ``name`` (the last one if repeated), or None."""
    values = req.GET.getall(name)
    return values[-1] if values else None


def timestamp(req, name):
    """The ISO 8601 date-time ``name`` as a naive UTC datetime (how the
    database keeps times), or None when absent; 400 when it is not
    one."""
    value = one(req, name)
    if value is None:
        return None
    try:
        return timeutils.normalize_time(timeutils.parse_isotime(value))
    except (ValueError, OverflowError):
        # NOTE(api): OverflowError: a time whose offset takes it past
        # year 9999 or before year 1 in UTC.
        raise exception.Invalid(
            'Invalid input for query parameters %s. Value: %s. %r is not '
            "a 'date-time'" % (name, value, value)) from None


def changes_window(req):
    """(``changes-since``, ``changes-before``) of a list request as naive
    UTC datetimes or None; ``changes-before`` only from 2.66 (ignored
    before, as Nova). 400 for a time that is no ISO 8601 date-time or a
    window that ends before it starts."""
    since = timestamp(req, 'changes-since')
    before = (timestamp(req, 'changes-before')
              if req.at_least(2, 66) else None)
    if since is not None and before is not None and since > before:
        raise exception.Invalid('The value of changes-since must be less '
                                'than or equal to changes-before.')
    return since, before


def non_negative_int(req, name):
    """The parameter as an int >= 0, None if absent; 400 otherwise."""
    value = one(req, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise exception.Invalid('%s param must be an integer' % name) \
            from None
    if number < 0:
        raise exception.Invalid('%s param must be positive' % name)
    return number


def limit(req):
    """``limit``, capped at ``[api] max_limit`` (the default too)."""
    max_limit = req.conf.api.max_limit
    value = non_negative_int(req, 'limit')
    return max_limit if value is None else min(value, max_limit)


def boolean(req, name, default=None):
    """A boolean parameter (true/false, yes/no, 1/0, ...)."""
    value = one(req, name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise exception.Invalid('Invalid value %r for the %s parameter: a '
                            'boolean is expected' % (value, name))


def next_link(req, href, items, page_limit, key='id'):
    """The ``<collection>_links`` list: a ``next`` link when the page is
    full (the client asks again from its last item), else empty.

    :param href: the collection's URL, without query string.
    """
    if not items or len(items) < page_limit:
        return []
    params = [(k, v) for k, v in req.GET.items() if k != 'marker']
    if not any(k == 'limit' for k, _v in params):
        params.append(('limit', str(page_limit)))
    params.append(('marker', str(items[-1][key])))
    return [{'rel': 'next', 'href': '%s?%s' % (href, urlencode(params))}]
