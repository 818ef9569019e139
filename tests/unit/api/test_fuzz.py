"""A fuzz test of the whole API stack, in process.

Every route of :func:`orchestrator.api.app.build_router`, with every HTTP
method, is sent requests made by hypothesis:

* paths: each template's parameters from a real resource (a server in a
  drawn state, its live migration, one of its instance actions, a
  compute node, a flavor, an image), random ids, huge and negative
  numbers and garbage (percent-encoded bytes that are not UTF-8
  included), plus paths next to the routes;
* query strings: the parameters the handlers read and random ones, with
  valid, garbage and malformed values;
* headers: microversions (valid, ``latest``, out of range, huge,
  malformed), content types, proxy headers, request ids, a token;
* bodies: generated from the route's own JSON schema (``POST /servers``
  per microversion; ``POST /servers/{id}/action`` for every key of
  :data:`orchestrator.api.server_actions.HANDLERS`, with the action's
  schema where it has one), sometimes with real image, flavor and host
  names so the request gets past validation; arbitrary JSON; malformed
  bytes (invalid UTF-8, truncated, deeply nested, oversized...).

Each response must be below 500, and every error must be a JSON body in
Nova's shape, ``{"<faultName>": {"message": str, "code": <status>}}``,
with no unformatted ``%s`` placeholder, an ``x-openstack-request-id``
header, and neither the password nor the token of the request echoed
(nor logged). The conftest's recording conductor answers every RPC call
the API makes, so a 503 is never acceptable here. A request slower than
:data:`SLOW_S` of CPU is a finding too (regular-expression denial of
service; CPU time, so that a loaded machine makes no finding).

Findings are collected, not raised at the first one: the test prints the
request count, the 5xx count and each distinct finding with the exact
request, then fails if there was any.

In CI the run is derandomized (a fixed seed) and bounded
(:data:`DEFAULT_EXAMPLES`); ``FUZZ_EXAMPLES=20000`` (``make fuzz``) runs
longer with a random seed, ``FUZZ_SEED`` fixes that seed.
"""

import base64
import contextlib
import json
import logging
import os
import random
import re
import time
import traceback
import urllib.parse
import uuid

import hypothesis
import webob
from hypothesis import strategies as st
from taskflow import states as tf_states

from orchestrator import context
from orchestrator import states
from orchestrator.api import app as api_app
from orchestrator.api import errors
from orchestrator.api import microversion
from orchestrator.api import quota_sets
from orchestrator.api import request as api_request
from orchestrator.api import server_actions
from orchestrator.api.schemas import aggregates as aggregate_schemas
from orchestrator.api.schemas import consoles as console_schemas
from orchestrator.api.schemas import images as image_schemas
from orchestrator.api.schemas import keypairs as keypair_schemas
from orchestrator.api.schemas import server_groups as group_schemas
from orchestrator.api.schemas import quota_sets as quota_schemas
from orchestrator.api.schemas import server_actions as action_schemas
from orchestrator.api.schemas import server_actions_admin as admin_schemas
from orchestrator.api.schemas import server_attributes as attribute_schemas
from orchestrator.api.schemas import servers as server_schemas
from orchestrator.api.schemas import services as service_schemas
from orchestrator.db import actions as db_actions
from orchestrator.db import catalog
from orchestrator.db import hosts as db_hosts
from orchestrator.db import migration_records
from orchestrator.scheduler import host_selection

from flows import boot

from tests.unit.api import console_flows
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import DEBIAN
from tests.unit.api.conftest import PROJECT
from tests.unit.api.conftest import serving_compute
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state

#: Generated requests of a CI run (about 15 s of CPU), beside the
#: explicit ones (every route and method, every action key).
DEFAULT_EXAMPLES = 500
EXAMPLES = int(os.environ.get('FUZZ_EXAMPLES') or DEFAULT_EXAMPLES)
#: Derandomized (hypothesis' fixed seed) unless FUZZ_EXAMPLES or
#: FUZZ_SEED is given; a longer run draws a seed and prints it.
DERANDOMIZE = not (os.environ.get('FUZZ_EXAMPLES')
                   or os.environ.get('FUZZ_SEED'))
SEED = None if DERANDOMIZE else int(os.environ.get('FUZZ_SEED')
                                    or random.getrandbits(32))
#: A request using more CPU than this (its thread's, in seconds) is a
#: finding: the API answers in milliseconds here.
SLOW_S = float(os.environ.get('FUZZ_SLOW_S') or 2.0)

SECRET = 'FuzzPass-9c1e7d'
TOKEN = 'FuzzToken-4b8a2f'
#: user_data a request sends: not base64 (a 400 that must not quote it),
#: and a valid base64 one.
USER_DATA = 'FuzzUserData-6a0d3c'
USER_DATA_B64 = 'RnV6elVzZXJEYXRhQjY0LTJmOWI='
METHODS = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS')
HOSTS = ('fuzz-h1', 'fuzz-h2')
FLAVOR_IDS = tuple(f[0] for f in catalog.DEFAULT_FLAVORS)
IMAGE_IDS = (CIRROS, DEBIAN)
VERSIONS = tuple('2.%d' % m for m in range(
    microversion.MIN_VERSION.minor, microversion.MAX_VERSION.minor + 1))

# Placeholders of path parameters, replaced by real ids per request.
REAL = '<real>'

ROUTES = api_app.build_router().routes()
TEMPLATES = sorted({r.template for r in ROUTES})
ROUTE_METHODS = {t: sorted({r.method for r in ROUTES if r.template == t})
                 for t in TEMPLATES}
_PARAM_RE = re.compile(r'\{([a-z_]+)\}')
#: The routes that take bodies drawn more often than the others.
WEIGHTED_TEMPLATES = TEMPLATES + ['/v2.1/servers'] * 2 + [
    '/v2.1/servers/{server_id}/action'] * 6

# -- values ------------------------------------------------------------------

#: Values that broke APIs before: format strings, huge and odd numbers,
#: regular-expression bombs, path tricks, encodings.
NASTY = (
    '', ' ', '0', '-1', '1.5', '1e400', 'NaN', 'null', 'true', '[]', '{}',
    '99999999999999999999', '-99999999999999999999',
    '9223372036854775808', '18446744073709551616', '2147483648',
    '%s', '%(x)s', '%d', '{0}', '{}', '\\', "'", '"', '`', ';', '--',
    '..', '../..', '%2e%2e', '(a+)+$', '(a|aa)+$', '([a-zA-Z]+)*$',
    '(.*a){20}', '[', '(', '\\1', '*', '+', '?', '\x00', '\n', '\r\n',
    '\u2028', '\ufeff', '\U0001f600', 'é', 'A' * 300, 'a' * 5000,
)
NASTY_BYTES = (
    b'\xff', b'\xc0\xaf', b'\xed\xa0\x80', b'\x80', b'\xe2\x82', b'\x00',
    b'%', b'%zz', b'\xef\xbb\xbf',
)

json_scalars = (st.none() | st.booleans() | st.integers()
                | st.integers(min_value=2 ** 63 - 2, max_value=2 ** 70)
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=20) | st.sampled_from(NASTY))
json_values = st.recursive(
    json_scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.text(max_size=10) | st.sampled_from(
                       NASTY), inner, max_size=4)),
    max_leaves=12)


def _percent(data):
    return urllib.parse.quote_from_bytes(data, safe='')


text_segments = st.text(max_size=30).map(
    lambda t: _percent(t.encode('utf-8', 'surrogatepass')))
byte_segments = st.binary(max_size=20).map(_percent)
garbage_segments = (text_segments | byte_segments
                    | st.sampled_from(NASTY).map(
                        lambda t: _percent(t.encode('utf-8')))
                    | st.sampled_from(NASTY_BYTES).map(_percent)
                    | st.integers().map(str))
ids = st.uuids().map(str)

def _weighted(*choices):
    """One of the (weight, strategy) ``choices``, in those proportions
    (``|`` flattens alternatives and weighs each leaf the same)."""
    indexes = [i for i, (weight, _s) in enumerate(choices)
               for _ in range(weight)]
    return st.sampled_from(indexes).flatmap(lambda i: choices[i][1])


def _param(*real):
    """A path parameter: a real value mostly, else a random id or
    garbage."""
    return _weighted((4, st.sampled_from(real)), (1, ids),
                     (1, st.integers().map(str)), (2, garbage_segments))


#: Path parameter -> strategy of (already encoded) segments; REAL is
#: replaced by the id of the example's real resource.
PARAMS = {
    'server_id': _param(REAL),
    'migration_id': _param(REAL),
    'request_id': _param(REAL),
    'hypervisor_id': _param(REAL),
    'flavor_id': _param(*FLAVOR_IDS),
    'image_id': _param(*IMAGE_IDS),
    'project_id': _param(PROJECT, 'fuzz-other-project'),
    'keypair_name': _param('fuzz-key'),
    'server_group_id': _param('fuzz-group'),
    'flow_id': _param(REAL),
    'aggregate_id': _param('1', '2', '0', '-1', '2147483648'),
    'key': _param('hw:cpu_policy'),
    'tag': _param('fuzz-tag'),
    'network_label': _param('private', 'public'),
    'hypervisor_hostname_pattern': _param(*HOSTS),
    'host_name': _param(*HOSTS),
    'tenant_id': _param(PROJECT, 'fuzz-other-project'),
    'service_id': _param('enable', 'disable', 'disable-log-reason',
                         'force-down', '1'),
    'asset_name': _param('console.js', 'index.html', 'nope.js', '..'),
    'before_timestamp': _param('2026-12-06%2006:10:00',
                               '2026-12-06%2006:10:00.123456'),
    'alias': _param('os-hosts', 'os-consoles', 'os-volumes'),
}


# -- bodies ------------------------------------------------------------------

def _name_format():
    return st.text(min_size=1, max_size=40).filter(
        lambda v: v == v.strip() and v.isprintable())


def _base64_format():
    return st.binary(max_size=40).map(
        lambda b: base64.b64encode(b).decode('ascii'))


FORMATS = {'name': _name_format(), 'base64': _base64_format(),
           'uuid': ids, 'ipv4': st.ip_addresses(v=4).map(str),
           'ipv6': st.ip_addresses(v=6).map(str)}


def _strings(schema):
    low = schema.get('minLength', 0)
    high = schema.get('maxLength')
    if 'format' in schema:
        found = FORMATS[schema['format']]
    elif 'pattern' in schema:
        found = st.from_regex(schema['pattern'], fullmatch=True)
    else:
        found = st.text(min_size=low, max_size=low + 20)
    if high is not None:
        found = found.filter(lambda v: low <= len(v) <= high)
        # At the limit and just past it.
        found |= st.tuples(st.characters(), st.integers(high, high + 1)).map(
            lambda t: t[0] * t[1])
    return found


def _objects(schema):
    properties = schema.get('properties', {})
    required = schema.get('required', [])
    fixed = st.fixed_dictionaries(
        {k: from_schema(properties.get(k, {})) for k in required},
        optional={k: from_schema(v) for k, v in properties.items()
                  if k not in required})
    extra = [st.dictionaries(st.from_regex(pattern, fullmatch=True)
                             .filter(lambda k: len(k) < 300),
                             from_schema(value), max_size=3)
             for pattern, value in schema.get('patternProperties',
                                              {}).items()]
    if schema.get('additionalProperties', True) is not False:
        extra.append(st.dictionaries(st.text(max_size=8), json_values,
                                     max_size=2))
    if not extra:
        return fixed
    return st.tuples(fixed, *extra).map(
        lambda parts: {k: v for part in reversed(parts)
                       for k, v in part.items()})


_TYPES = {
    'null': lambda s: st.none(),
    'boolean': lambda s: st.booleans(),
    'integer': lambda s: st.integers(min_value=s.get('minimum')),
    'number': lambda s: st.floats(allow_nan=False, allow_infinity=False),
    'string': _strings,
    'array': lambda s: st.lists(from_schema(s.get('items', {})),
                                max_size=3),
    'object': _objects,
}


def from_schema(schema):
    """Values the (Draft 4, our subset) JSON schema ``schema`` accepts,
    mostly: strings around maxLength go past it.

    NOTE(fuzz): hypothesis-jsonschema 0.23.1, the latest, fails on the
    hypothesis this project installs (it calls the removed
    ``cu.many.more``), so this covers the keywords our schemas use.
    """
    if 'enum' in schema:
        return st.sampled_from(schema['enum'])
    if 'oneOf' in schema or 'anyOf' in schema:
        return st.one_of([from_schema(s) for s in
                          schema.get('oneOf', schema.get('anyOf'))])
    types = schema.get('type')
    if types is None:
        return json_values
    if isinstance(types, str):
        types = [types]
    return st.one_of([_TYPES[t](schema) for t in types])


@st.composite
def _mutated(draw, strategy):
    """A value of ``strategy``, sometimes with one object in it broken: a
    key dropped, one added or a value replaced by any JSON value."""
    value = draw(strategy)
    if draw(st.integers(0, 3)):
        return value
    objects = []

    def collect(node):
        if isinstance(node, dict):
            objects.append(node)
            for item in node.values():
                collect(item)
        elif isinstance(node, list):
            for item in node:
                collect(item)
    collect(value)
    if not objects:
        return draw(json_values)
    target = draw(st.sampled_from(objects))
    how = draw(st.sampled_from(('drop', 'add', 'replace')))
    if how == 'add' or not target:
        target[draw(st.text(max_size=8) | st.sampled_from(NASTY))] = draw(
            json_values)
    elif how == 'drop':
        del target[draw(st.sampled_from(sorted(target)))]
    else:
        target[draw(st.sampled_from(sorted(target)))] = draw(json_values)
    return value


#: Keys whose generated value is sometimes replaced by a real one, so a
#: request gets past validation into the handler.
REAL_VALUES = {
    'imageRef': IMAGE_IDS + tuple('http://x/images/' + i
                                  for i in IMAGE_IDS),
    'rescue_image_ref': IMAGE_IDS,
    'flavorRef': FLAVOR_IDS + ('http://x/flavors/2',),
    'host': HOSTS + ('no-such-host',),
    'availability_zone': ('nova', 'nova:' + HOSTS[0], ':' + HOSTS[1],
                          'nova:%s:%s' % (HOSTS[0], HOSTS[1]), 'nova::'),
    'min_count': (1, '1', 2), 'max_count': (1, '1', 3),
}


@st.composite
def _realistic(draw, body_strategy):
    """A body from ``body_strategy``, some values replaced by real ones
    and every string password by :data:`SECRET`, every string user_data
    by :data:`USER_DATA` or :data:`USER_DATA_B64`."""
    body = draw(body_strategy)

    def walk(node):
        if isinstance(node, dict):
            for key in list(node):
                if key == 'adminPass' and isinstance(node[key], str):
                    node[key] = SECRET
                elif key == 'user_data' and isinstance(node[key], str):
                    node[key] = draw(st.sampled_from([USER_DATA,
                                                      USER_DATA_B64]))
                elif key in REAL_VALUES and draw(st.booleans()):
                    node[key] = draw(st.sampled_from(REAL_VALUES[key]))
                else:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(body)
    return body


def _schema_bodies(schema):
    return _realistic(_mutated(from_schema(schema)))


def _action_schemas():
    """Action key -> list of schemas of its whole body ({key: value})."""
    found = {
        'rebuild': [action_schemas.rebuild(v)
                    for v in ((2, 1), (2, 54), (2, 57), (2, 63))],
        'rescue': [action_schemas.RESCUE],
        'createImage': [action_schemas.CREATE_IMAGE],
        'createBackup': [action_schemas.CREATE_BACKUP],
        'changePassword': [action_schemas.CHANGE_PASSWORD],
        'resize': [action_schemas.RESIZE],
        'migrate': [action_schemas.migrate(v) for v in ((2, 1), (2, 56))],
        'os-migrateLive': [admin_schemas.live_migrate(v)
                           for v in ((2, 1), (2, 25), (2, 30), (2, 68))],
        'evacuate': [admin_schemas.evacuate(v)
                     for v in ((2, 1), (2, 14), (2, 29), (2, 68))],
        'reboot': [{'type': 'object', 'required': ['reboot'],
                    'properties': {'reboot': {
                        'type': 'object', 'required': ['type'],
                        'properties': {'type': {
                            'enum': ['SOFT', 'HARD', 'soft', 'Hard']}}}}}],
        'os-resetState': [{'type': 'object', 'required': ['os-resetState'],
                           'properties': {'os-resetState': {
                               'type': 'object', 'required': ['state'],
                               'properties': {'state': {
                                   'enum': ['active', 'error']}}}}}],
    }
    found['os-getConsoleOutput'] = [console_schemas.get_console_output]
    for key, types in (('os-getVNCConsole', ['novnc', 'xvpvnc']),
                       ('os-getSerialConsole', ['serial'])):
        found[key] = [console_schemas.legacy_console(key, types)]
    return found


ACTION_SCHEMAS = _action_schemas()


def _action_bodies(key):
    """Bodies of the action ``key``: its schema's, ``null`` (the value of
    actions without arguments) and any JSON value."""
    options = [(2, st.just({key: None})),
               (1, json_values.map(lambda v: {key: v}))]
    options += [(3, _schema_bodies(s)) for s in ACTION_SCHEMAS.get(key, ())]
    return _weighted(*options)


ACTION_KEYS = sorted(server_actions.HANDLERS)
action_bodies = st.sampled_from(ACTION_KEYS).flatmap(_action_bodies)
create_bodies = st.sampled_from(
    ((2, 1), (2, 19), (2, 37), (2, 47))).flatmap(
        lambda v: _schema_bodies(server_schemas.create(
            microversion.APIVersion(*v))))


def _encode(body):
    return json.dumps(body).encode('utf-8')


malformed_bodies = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(NASTY_BYTES),
    st.sampled_from((
        b'{', b'}', b'[', b'{"a":', b'{"server": {"name": "x",', b'nul',
        b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999999}',
        b'{"a": 1}{"b": 2}', b'\xef\xbb\xbf{"forceDelete": null}',
        '{"forceDelete": null}'.encode('utf-16'),
        b'{"os-stop": null, "os-stop": null}',
        b'{"name": "\xff\xfe"}', b'"\\ud800"', b'{"\\ud800": null}',
        b'[' * 100000 + b']' * 100000, b'{"a":' * 50000 + b'1' + b'}' * 50000,
        b'1' * 5000, b'-' + b'9' * 5000,
    )),
    (action_bodies | create_bodies).map(_encode).flatmap(
        lambda raw: st.integers(0, max(0, len(raw) - 1)).map(
            lambda cut: raw[:cut])),
)


quota_set_bodies = st.sampled_from(((2, 1), (2, 36))).flatmap(
    lambda v: _schema_bodies(quota_schemas.update(
        quota_sets.shown(v) + (['networks'] if v < (2, 36) else []))))

remote_console_bodies = st.sampled_from(((2, 6), (2, 8))).flatmap(
    lambda v: _schema_bodies(console_schemas.remote_console(v)))

service_bodies = st.sampled_from((
    service_schemas.update, service_schemas.update_v211,
    service_schemas.update_v253)).flatmap(_schema_bodies)

keypair_bodies = st.sampled_from(((2, 1), (2, 2), (2, 10))).flatmap(
    lambda v: _schema_bodies(keypair_schemas.create(v)))

image_bodies = _schema_bodies(image_schemas.create)
metadata_bodies = _schema_bodies(attribute_schemas.METADATA_BODY)
meta_item_bodies = _schema_bodies(attribute_schemas.META_ITEM_BODY)

server_group_bodies = st.sampled_from(((2, 1), (2, 15), (2, 64))).flatmap(
    lambda v: _schema_bodies(group_schemas.create(v)))

aggregate_bodies = st.sampled_from((aggregate_schemas.CREATE,
                                    aggregate_schemas.UPDATE)).flatmap(
    _schema_bodies)


def _aggregate_action_bodies(key):
    """Bodies of the aggregate action ``key``: its schema's, ``null``,
    and real ones (a fuzz host; a zone)."""
    if key == 'set_metadata':
        real = st.sampled_from(('fuzz-zone', 'nova', None)).map(
            lambda zone: {key: {'metadata': {'availability_zone': zone}}})
    else:
        real = st.sampled_from(HOSTS + ('no-such-host',)).map(
            lambda host: {key: {'host': host}})
    return _weighted((1, st.just({key: None})), (2, real),
                     (3, _schema_bodies(aggregate_schemas.ACTIONS[key])))


aggregate_action_bodies = st.sampled_from(sorted(
    aggregate_schemas.ACTIONS)).flatmap(_aggregate_action_bodies)


def _bodies(template, method):
    """(raw body or None) strategy for a request."""
    if method in ('GET', 'HEAD', 'OPTIONS', 'DELETE'):
        return st.none() | st.just(b'{}') | json_values.map(_encode)
    options = [(1, st.none()), (1, json_values.map(_encode)),
               (1, malformed_bodies)]
    if template == '/v2.1/servers':
        options.append((4, create_bodies.map(_encode)))
    elif template == '/v2.1/servers/{server_id}/action':
        options.append((5, action_bodies.map(_encode)))
    elif template == '/v2.1/os-quota-sets/{project_id}':
        options.append((4, quota_set_bodies.map(_encode)))
    elif template == '/v2.1/os-keypairs':
        options.append((4, keypair_bodies.map(_encode)))
    elif template == '/v2.1/servers/{server_id}/remote-consoles':
        options.append((4, remote_console_bodies.map(_encode)))
    elif template == '/v2.1/os-services/{service_id}':
        options.append((4, service_bodies.map(_encode)))
    elif template == '/v2.1/os-server-groups':
        options.append((4, server_group_bodies.map(_encode)))
    elif template == '/image/v2/images':
        options.append((4, image_bodies.map(_encode)))
    elif template in ('/v2.1/os-aggregates',
                      '/v2.1/os-aggregates/{aggregate_id}'):
        options.append((4, aggregate_bodies.map(_encode)))
    elif template == '/v2.1/os-aggregates/{aggregate_id}/action':
        options.append((4, aggregate_action_bodies.map(_encode)))
    elif template == '/v2.1/images/{image_id}/metadata':
        options.append((4, metadata_bodies.map(_encode)))
    elif template == '/v2.1/images/{image_id}/metadata/{key}':
        options.append((4, meta_item_bodies.map(_encode)))
    return _weighted(*options)


# -- query strings and headers ---------------------------------------------

QUERY_NAMES = ('limit', 'marker', 'name', 'status', 'image', 'flavor',
               'host', 'all_tenants', 'deleted', 'instance_uuid',
               'migration_type', 'source_compute', 'binary', 'is_public',
               'minRam', 'minDisk', 'visibility', 'read_deleted',
               'changes-since', 'sort_key', 'sort_dir', 'ip', 'tenant_id',
               'user_id', 'reserved', 'with_servers',
               'hypervisor_hostname_pattern', 'start', 'end', 'detailed',
               'changes-before', 'reservation_id', 'server', 'type',
               'all_projects', 'offset')
_CHANGES = ('2020-01-01T00:00:00Z', '9999-12-31T23:59:59-14:00',
            '0001-01-01T00:00:00+14:00', '2011/01/01', '')
QUERY_VALUES = {
    'changes-since': _CHANGES, 'changes-before': _CHANGES,
    'reservation_id': ('r-00000000', ''),
    'start': ('2020-01-01T00:00:00', '2020-01-01 00:00:00.5', 'x', ''),
    'end': ('2030-01-01T00:00:00.000001', '1999-01-01T00:00:00', '9' * 30),
    'detailed': ('1', '0', 'true'),
    'with_servers': ('true', 'false', 'x'),
    'hypervisor_hostname_pattern': HOSTS + ('fuzz', '%', ''),
    'limit': ('1', '2', '0', '1000', '1001'),
    'marker': ('1', CIRROS, REAL),
    'name': ('vm', '^vm', 'a+', '(a+)+$', '(a|aa)+$', '[', '(?P<', '*'),
    'status': ('ACTIVE', 'active', 'SHUTOFF', 'DELETED', 'ERROR', ','),
    'all_tenants': ('', '1', 'true', 'no'),
    'deleted': ('true', 'false', 'maybe'),
    'host': HOSTS, 'source_compute': HOSTS,
    'is_public': ('none', 'true', 'false', 'x'),
    'minRam': ('512', '-1', '9' * 30), 'minDisk': ('0', '20', 'x'),
    'migration_type': ('live-migration', 'resize', 'evacuation'),
}
_utf8_text = st.text(max_size=20).map(lambda t: t.encode('utf-8'))
query_values = st.one_of(
    _utf8_text, st.sampled_from(NASTY).map(lambda t: t.encode('utf-8')),
    st.integers().map(lambda n: str(n).encode('ascii')))
raw_query_values = st.binary(max_size=20) | st.sampled_from(NASTY_BYTES)


@st.composite
def query_strings(draw):
    """A raw query string, percent-encoded mostly, sometimes not."""
    pairs = []
    # One query in six may hold bytes that are not UTF-8 (refused before
    # a handler reads them, so not in every request).
    values = query_values
    if draw(st.integers(0, 5)) == 0:
        values = values | raw_query_values
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.sampled_from(QUERY_NAMES)
                    | st.text(max_size=8).map(
                        lambda t: t.encode('utf-8', 'surrogatepass')))
        if isinstance(name, str) and name in QUERY_VALUES and draw(
                st.booleans()):
            value = draw(st.sampled_from(QUERY_VALUES[name]))
            value = value.encode('utf-8') if value != REAL else REAL
        else:
            value = draw(values)
        name = name.encode('utf-8') if isinstance(name, str) else name
        if value == REAL:
            pairs.append('%s=%s' % (_percent(name), REAL))
        else:
            pairs.append('%s=%s' % (_percent(name), _percent(value)))
    query = '&'.join(pairs)
    if draw(st.integers(0, 9)) == 0:
        # Unencoded and broken: '%zz', '&&', '=', raw latin-1 characters.
        query += draw(st.sampled_from(('&&', '=', '%', '%zz', '%F', '+',
                                       ';x=1', '&=&', 'a=%ff%fe', 'é',
                                       '\x7f', '#frag')))
    return query


version_values = _weighted(
    (6, st.sampled_from(VERSIONS + ('latest', 'LATEST'))),
    (1, st.sampled_from(('2.0', '2.48', '3.0', '1.1', '2.99999999999999999999',
                       '99999999999999999999.1', '2.1' + '0' * 4000,
                       '2.' + '9' * 5000, '2', '2.', '.1', '2.1.1', '02.1',
                       '2.01', '-2.1', '2.-1', ' 2.1 ', 'compute', ''))),
    (1, st.text(alphabet=st.characters(max_codepoint=255), max_size=12)))
header_text = st.text(alphabet=st.characters(max_codepoint=255,
                                             blacklist_characters='\r\n'),
                      max_size=40) | st.sampled_from(NASTY).filter(
    lambda t: all(ord(c) < 256 and c not in '\r\n' for c in t))


@st.composite
def headers(draw):
    result = {}
    if draw(st.integers(0, 3)):
        result['OpenStack-API-Version'] = draw(_weighted(
            (6, st.just('compute ')),
            (1, st.sampled_from(('volume ', 'COMPUTE ', 'compute  ', ''))))
        ) + draw(version_values)
        if draw(st.integers(0, 5)) == 0:
            result['OpenStack-API-Version'] += ', compute 2.5'
    if draw(st.integers(0, 5)) == 0:
        result['X-OpenStack-Nova-API-Version'] = draw(version_values)
    result['Content-Type'] = draw(
        st.sampled_from(('application/json', 'application/json; '
                         'charset=UTF-8', 'text/plain', 'application/xml',
                         'application/json; charset=latin-1',
                         'multipart/form-data; boundary=x',
                         'application/x-www-form-urlencoded'))
        | header_text)
    # name -> (values, garbage or None): garbage one time in four.
    optional = {
        'Accept': (st.sampled_from(('application/json', 'text/html', '*/*',
                                    'application/xml')), header_text),
        'X-Auth-Token': (st.just(TOKEN), None),
        'X-Openstack-Request-Id': (
            st.just('req-0d5c4a6e-3b1f-4f7a-9a57-3d1c7b2e9f10'),
            header_text),
        'X-Forwarded-Proto': (st.sampled_from(('https', 'http', 'ftp')),
                              header_text),
        'X-Forwarded-Host': (st.sampled_from((
            'example.com', 'a:1', '[::1]:8774', '10.0.0.1')), header_text),
        'X-Forwarded-Prefix': (st.sampled_from(('/compute', '/', '/a/b/')),
                               header_text),
        'Forwarded': (st.sampled_from((
            'for=1.2.3.4;proto=https;host=x', 'proto=', ';;', 'host="a',
            'for=a, for=b;host=y:1')), header_text),
        'Content-Encoding': (st.sampled_from(('gzip', 'deflate')), None),
        'Transfer-Encoding': (st.sampled_from(('chunked', 'gzip')), None),
    }
    for name, (values, garbage) in optional.items():
        if draw(st.integers(0, 5)) == 0:
            if garbage is not None and draw(st.integers(0, 3)) == 0:
                values = garbage
            result[name] = draw(values)
    return result


# -- requests ----------------------------------------------------------------

@st.composite
def requests(draw):
    """A request: (method, encoded path, raw query, headers, raw body,
    template or None, role)."""
    kind = draw(st.integers(0, 19))
    if kind == 0:
        # Near the routes: unknown paths, extra segments, odd slashes.
        template = None
        base = draw(st.sampled_from(TEMPLATES + ['', '/v2.1/servers/x/y/z',
                                                 '/v2', '/v3']))
        base = _PARAM_RE.sub(lambda m: draw(garbage_segments), base)
        path = base + draw(st.sampled_from(('', '/', '//', '/x', '/..',
                                            '/%2F', '/%00', '/%ff')))
        path = path if path.startswith('/') else '/' + path
        method = draw(st.sampled_from(METHODS + ('FOO', 'get', 'TRACE')))
    else:
        template = draw(st.sampled_from(WEIGHTED_TEMPLATES))
        method = draw(st.sampled_from(
            ROUTE_METHODS[template] if draw(st.integers(0, 3))
            else METHODS))
        path = _PARAM_RE.sub(lambda m: draw(PARAMS[m.group(1)]), template)
        if draw(st.integers(0, 9)) == 0:
            path += '/'
    return {
        'method': method, 'path': path, 'query': draw(query_strings()),
        'headers': draw(headers()),
        'body': draw(_bodies(template, method)), 'template': template,
        'role': draw(st.sampled_from(('admin', 'admin', 'admin', 'member'))),
        # An active server with no task takes most actions.
        'server_state': draw(_weighted(
            (3, st.just(('active', None))),
            (4, st.sampled_from(SERVER_STATES)))),
    }


def _explicit_examples():
    """A plain request for every route and method, and a ``null`` and a
    real-valued body for every action key, so that each run reaches all
    of them whatever the generator draws."""
    examples = []
    for template in TEMPLATES:
        path = _PARAM_RE.sub(REAL, template)
        for method in ROUTE_METHODS[template]:
            examples.append(dict(
                method=method, path=path, query='', headers={},
                body=None, template=template, role='admin',
                server_state=('active', None)))
    template = '/v2.1/servers/{server_id}/action'
    for key in ACTION_KEYS:
        for body in ({key: None}, {key: EXAMPLE_VALUES.get(key, {})}):
            examples.append(dict(
                method='POST', path=_PARAM_RE.sub(REAL, template),
                query='', headers={'OpenStack-API-Version': 'compute 2.47'},
                body=_encode(body), template=template, role='admin',
                server_state=('active', None)))
    examples += [dict(example, role='admin', server_state=('active', None),
                      headers=dict(example.get('headers', {})))
                 for example in KNOWN_NASTY]
    return examples


_ACTION = '/v2.1/servers/{server_id}/action'
_MIGRATION = '/v2.1/servers/{server_id}/migrations/{migration_id}'
#: Requests that broke the API once (or would break one like it), sent
#: in every run.
KNOWN_NASTY = [
    # A backtracking name filter (World.SLOW_NAME is there to be found).
    dict(method='GET', path='/v2.1/servers/detail', query='name=(a%2B)%2B%24',
         body=None, template='/v2.1/servers/detail'),
    # A password in a 400's quoted value.
    dict(method='POST', path=_PARAM_RE.sub(REAL, _ACTION), query='',
         body=_encode({'rebuild': {'adminPass': SECRET, 'imageRef': CIRROS,
                                   'x': 1}}), template=_ACTION),
    dict(method='POST', path='/v2.1/servers', query='', template=
         '/v2.1/servers', body=_encode({'server': {
             'name': 'a', 'flavorRef': '1', 'adminPass': [SECRET]}})),
    # user_data in a 400: not base64, beside an unknown key, malformed.
    dict(method='POST', path='/v2.1/servers', query='', template=
         '/v2.1/servers', body=_encode({'server': {
             'name': 'a', 'flavorRef': '1', 'imageRef': CIRROS,
             'networks': 'auto', 'user_data': USER_DATA}})),
    dict(method='POST', path='/v2.1/servers', query='', template=
         '/v2.1/servers', body=_encode({'server': {
             'name': 'a', 'flavorRef': '1', 'user_data': USER_DATA_B64,
             'adminPass': SECRET, 'x': 1}})),
    dict(method='POST', path='/v2.1/servers', query='', template=
         '/v2.1/servers', body=('{"server": {"adminPass": "%s", '
                                '"user_data": "%s", ' % (
                                    SECRET, USER_DATA)).encode()),
    # Ids past the integer columns, a microversion of 5000 digits.
    dict(method='GET', path='/v2.1/os-hypervisors/99999999999999999999',
         query='', body=None, template='/v2.1/os-hypervisors/{hypervisor_id}'),
    dict(method='DELETE', path=_PARAM_RE.sub(REAL, _MIGRATION).replace(
        REAL + '/migrations/' + REAL, REAL + '/migrations/' + '9' * 30),
         query='', body=None, template=_MIGRATION,
         headers={'OpenStack-API-Version': 'compute 2.47'}),
    dict(method='GET', path='/v2.1/servers', query='', body=None,
         template='/v2.1/servers',
         headers={'OpenStack-API-Version': 'compute 2.' + '9' * 5000}),
    # Not UTF-8, NUL, deep nesting, a body over the size limit.
    dict(method='GET', path='/v2.1/servers/%ff', query='limit=%ED%A0%80',
         body=None, template='/v2.1/servers/{server_id}'),
    dict(method='GET', path='/v2.1/flavors', query='marker=%00', body=None,
         template='/v2.1/flavors'),
    dict(method='POST', path='/v2.1/servers', query='', template=
         '/v2.1/servers', body=b'{"server": ' + b'[' * 100000),
    dict(method='POST', path=_PARAM_RE.sub(REAL, _ACTION), query='',
         template=_ACTION, body=b'{"os-stop": null}' + b' ' * 200000),
    # Proxy headers that make no link.
    dict(method='GET', path='/v2.1/servers', query='', body=None,
         template='/v2.1/servers', headers={'X-Forwarded-Prefix': '/\xe9',
                                            'X-Forwarded-Host': 'a b'}),
]


#: A valid value of each action that takes one.
EXAMPLE_VALUES = {
    'reboot': {'type': 'SOFT'}, 'os-resetState': {'state': 'error'},
    'rebuild': {'imageRef': CIRROS, 'adminPass': SECRET},
    'rescue': {'adminPass': SECRET}, 'createImage': {'name': 'snap'},
    'resize': {'flavorRef': '2'}, 'migrate': {'host': HOSTS[1]},
    'os-migrateLive': {'host': HOSTS[1], 'block_migration': 'auto'},
    'evacuate': {'host': HOSTS[1]},
    'createBackup': {'name': 'bak', 'backup_type': 'daily', 'rotation': 1},
    'changePassword': {'adminPass': SECRET},
}


# -- the world ---------------------------------------------------------------

#: (vm_state, task_state) of the example's real server.
SERVER_STATES = (
    ('active', None), ('active', 'migrating'), ('stopped', None),
    ('paused', None), ('suspended', None), ('rescued', None),
    ('resized', None), ('soft-delete', None), ('error', None),
    ('building', 'scheduling'), ('active', 'rebooting'),
)


def _member(inner):
    """``inner`` as a non-admin member of project 'default'."""
    def app(environ, start_response):
        environ[api_request.CONTEXT_KEY] = context.RequestContext(
            user_id='member', project_id='default', is_admin=False,
            roles=['member'],
            request_id='req-%s' % uuid.uuid4(), overwrite=False)
        return inner(environ, start_response)
    return app


def _member_stack(conf):
    """build_app's stack with a member's context instead of noauth's."""
    return api_app.wrap(
        _member(api_app.APIApplication(api_app.build_router(), conf)), conf)


class World:
    """The real resources requests name: a server per state in
    :data:`SERVER_STATES` (with its live or resize migration), made anew
    only after a request may have changed it."""

    #: A name Python's re takes seconds of CPU to search '(a+)+$'
    #: through: a name filter that runs client regexes with backtracking
    #: shows it (RE2 takes microseconds).
    SLOW_NAME = 'a' * 26 + '!'

    def __init__(self):
        for host in HOSTS:
            db_hosts.heartbeat(host, host_selection.COMPUTE_BINARY)
            db_hosts.update_compute_node(host, 64, 65536, 1000)
        self.node_id = str(db_hosts.list_compute_nodes()[0]['id'])
        make_instance('active', host=HOSTS[0], display_name=self.SLOW_NAME)
        self._servers = {}

    def server(self, state):
        """The ids of the server in ``state``."""
        if state not in self._servers:
            self._servers[state] = self._make(state)
        return self._servers[state]

    def changed(self, state):
        """A request may have changed the server in ``state``."""
        self._servers.pop(state, None)

    def _make(self, state):
        vm_state, task_state = state
        # An administrator's fuzzed DELETE may have removed a default
        # flavor the servers are made of: put the defaults back.
        catalog.seed_defaults()
        if vm_state == 'building':
            instance = make_instance()
        else:
            instance = make_instance_in_state(vm_state, task_state,
                                              host=HOSTS[0])
        migration = None
        if task_state == 'migrating':
            migration = migration_records.create(
                instance['uuid'], 'live-migration',
                states.MIGRATION_RUNNING, source_compute=HOSTS[0],
                dest_compute=HOSTS[1])
        elif vm_state == 'resized':
            migration = migration_records.create(
                instance['uuid'], 'resize', states.MIGRATION_FINISHED,
                source_compute=HOSTS[1], dest_compute=HOSTS[0],
                old_flavor=instance['flavor'], new_flavor=instance['flavor'])
        actions = db_actions.list_for_instance(instance['uuid'])
        # The server's boot flow, failed, as a logbook holds it (the
        # console's flow routes).
        flow_uuid = console_flows.save_flow(
            instance, boot, actions[-1], flow_state=tf_states.FAILURE,
            with_atoms=False)
        return {
            'server_id': instance['uuid'],
            'flow_id': flow_uuid,
            'migration_id': str(migration['id']) if migration else '1',
            'request_id': actions[0]['request_id'],
            'hypervisor_id': self.node_id,
        }


# -- sending and checking ----------------------------------------------------

def _environ(spec, real):
    path = spec['path']
    segments = []
    template_parts = (spec['template'] or '').split('/')
    for i, segment in enumerate(path.split('/')):
        if segment == REAL and i < len(template_parts):
            param = template_parts[i].strip('{}')
            segment = real.get(param, REAL)
        segments.append(segment)
    path = '/'.join(segments)
    query = spec['query'].replace(REAL, real['server_id'])
    env = webob.Request.blank('/').environ
    env['REQUEST_METHOD'] = spec['method']
    # What a WSGI server does: unquote the path to bytes, pass them as
    # latin-1; the query string stays as sent.
    env['PATH_INFO'] = urllib.parse.unquote_to_bytes(path).decode('latin-1')
    env['QUERY_STRING'] = query
    req = webob.Request(env)
    for name, value in spec['headers'].items():
        req.headers[name] = value
    if spec['body'] is not None:
        req.body = spec['body']
    return env, path, query


def describe(spec, path, query):
    """The request as a line a human can replay."""
    body = spec['body']
    if body is not None and len(body) > 300:
        body = body[:300] + b'... (%d bytes)' % len(body)
    return '%s %s%s%s headers=%r body=%r as %s' % (
        spec['method'], path, '?' if query else '', query,
        spec['headers'], body, spec['role'])


def _sent_text(spec, path, query):
    # NOTE(fuzz): decoded too: '/flavors/%25s' rightly answers 'Flavor %s
    # could not be found.'
    return '%s %s %s %s %r %r' % (path, urllib.parse.unquote(path),
                                 urllib.parse.unquote(query), query,
                                 spec['headers'], spec['body'])


def check(spec, path, query, response, cpu):
    """The problems of one response (empty when it is right)."""
    problems = []
    status = response.status_int
    if status >= 500:
        problems.append('status %d' % status)
    if cpu > SLOW_S:
        problems.append('took %.1f s of CPU' % cpu)
    request_ids = {response.headers.get(h) for h in (
        'x-openstack-request-id', 'x-compute-request-id')}
    if None in request_ids or len(request_ids) != 1:
        problems.append('no x-openstack-request-id and x-compute-request-id '
                        'with the same id')
    body = response.body
    if status >= 400 and not (spec['method'] == 'HEAD' and not body):
        if not (response.content_type or '').endswith('json'):
            problems.append('error content type %r'
                            % response.content_type)
        try:
            fault = json.loads(body)
        except ValueError:
            problems.append('error body is not JSON: %r' % body[:200])
        else:
            expected = errors.FAULT_NAMES.get(status,
                                              errors.DEFAULT_FAULT_NAME)
            if (not isinstance(fault, dict) or list(fault) != [expected]
                    or not isinstance(fault[expected], dict)
                    or fault[expected].get('code') != status
                    or not isinstance(fault[expected].get('message'),
                                      str)):
                problems.append('error body not in Nova shape: %r'
                                % body[:300])
            else:
                message = fault[expected]['message']
                sent = _sent_text(spec, path, query)
                for placeholder in ('%s', '%(', '%d', '%r'):
                    if placeholder in message and placeholder not in sent:
                        problems.append('unformatted %s in message: %r'
                                        % (placeholder, message[:300]))
    elif (status < 400 and body and (response.content_type or '')
          .endswith('json')):
        try:
            json.loads(body)
        except ValueError:
            problems.append('%d body is not JSON' % status)
    if status >= 400 and SECRET.encode() in body:
        problems.append('password echoed in the %d body' % status)
    for user_data in (USER_DATA, USER_DATA_B64):
        if status >= 400 and user_data.encode() in body:
            problems.append('user_data echoed in the %d body' % status)
    if TOKEN.encode() in body:
        problems.append('token echoed in the %d body' % status)
    return problems


def _signature(spec, problems, error):
    """What makes a finding distinct: the route, method, problem and the
    exception logged (its type and where it was raised)."""
    where = spec['template'] or 'unrouted'
    text = ';'.join(re.sub(r'\d+(\.\d+)?', 'N', p)[:60] for p in problems)
    return (where, spec['method'] if spec['template'] else '*',
            text + (' ' + error if error else ''))


class LogWatch(logging.Handler):
    """Records log lines that contain a secret of the fuzzer, and the
    last exception logged (type, and the deepest frame of ours)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.leaks = []
        self.last_error = None

    def emit(self, record):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad record is not a leak
            return
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text += ' ' + repr(error)
            where = [f for f in traceback.extract_tb(error.__traceback__)
                     if '/orchestrator/' in f.filename]
            self.last_error = '%s at %s' % (
                type(error).__name__,
                '%s:%d' % (where[-1].filename.rsplit('/orchestrator/')[-1],
                           where[-1].lineno) if where else '?')
        for secret in (SECRET, TOKEN, USER_DATA, USER_DATA_B64):
            if secret in text:
                self.leaks.append('%s: %s' % (record.name, text[:300]))


def test_fuzz_every_route(db, conf, conductor, capsys, tmp_path):
    """Zero 5xx and a Nova-shaped JSON error for every fuzzed request."""
    # The hosts' agents answer the calls the API makes to them (console
    # output); their guests are not there (404).
    conf.set_override('state_path', str(tmp_path))
    with contextlib.ExitStack() as agents:
        for host in HOSTS:
            agents.enter_context(serving_compute(conf, host))
        _fuzz_every_route(conf, capsys)


def _fuzz_every_route(conf, capsys):
    app = api_app.build_app(conf)
    # Registered by the middleware, so set once the app is built.
    conf.set_override('enable_proxy_headers_parsing', True,
                      group='oslo_middleware')
    conf.set_override('reclaim_instance_interval_s', 3600)
    member = _member_stack(conf)
    world = World()
    stats = {'requests': 0, '5xx': 0, 'by_status': {}, 'seconds': {},
             'errors': {}}
    findings = {}
    reached = set()
    logs = LogWatch()
    logging.getLogger().addHandler(logs)
    orch_log = logging.getLogger('orchestrator')
    old_level = orch_log.level
    orch_log.setLevel(logging.DEBUG)

    settings = hypothesis.settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        derandomize=DERANDOMIZE,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck))

    def fuzz(spec):
        real = world.server(spec['server_state'])
        env, path, query = _environ(spec, real)
        logs.last_error = None
        target = member if spec['role'] == 'member' else app
        started, cpu_started = time.monotonic(), time.thread_time()
        try:
            response = webob.Request(env).get_response(target)
        except Exception as e:  # noqa: BLE001 - a finding, not a crash
            response = webob.Response(status=599, body=repr(e).encode())
        elapsed = time.monotonic() - started
        cpu = time.thread_time() - cpu_started
        if spec['method'] not in ('GET', 'HEAD') and response.status_int < 500:
            world.changed(spec['server_state'])
        timing = stats['seconds'].setdefault(spec['template'], [0, 0.0])
        timing[0] += 1
        timing[1] += elapsed
        stats['requests'] += 1
        status = response.status_int
        stats['by_status'][status] = stats['by_status'].get(status, 0) + 1
        if status >= 500:
            stats['5xx'] += 1
        reached.add((spec['template'], spec['method']))
        if 400 <= status < 500:
            try:
                message = next(iter(response.json.values()))['message']
            except Exception:  # noqa: BLE001 - check() reports it
                message = '?'
            message = '%d %s' % (status, re.sub(r'\d+|[0-9a-f-]{36}', 'N',
                                                message)[:50])
            stats['errors'][message] = stats['errors'].get(message, 0) + 1
        problems = check(spec, path, query, response, cpu)
        if problems:
            key = _signature(spec, problems, logs.last_error)
            entry = findings.setdefault(key, {
                'count': 0, 'problems': problems, 'status': status,
                'error': logs.last_error,
                'request': describe(spec, path, query),
                'response': response.body[:300]})
            entry['count'] += 1

    for example in reversed(_explicit_examples()):
        fuzz = hypothesis.example(spec=example)(fuzz)
    fuzz = settings(hypothesis.given(spec=requests())(fuzz))
    if SEED is not None:
        fuzz = hypothesis.seed(SEED)(fuzz)
    try:
        fuzz()
    finally:
        logging.getLogger().removeHandler(logs)
        orch_log.setLevel(old_level)

    missing = sorted((t, m) for t in TEMPLATES for m in ROUTE_METHODS[t]
                     if (t, m) not in reached)
    with capsys.disabled():
        print('\nfuzz (%s): %d requests, %d 5xx, %d distinct findings, '
              'statuses %s; routes x methods reached: %d, not reached: %s'
              % ('derandomized' if DERANDOMIZE else 'FUZZ_SEED=%d' % SEED,
                 stats['requests'], stats['5xx'], len(findings),
                 dict(sorted(stats['by_status'].items())), len(reached),
                 missing or 'none'))
        slowest = sorted(stats['seconds'].items(), key=lambda i: -i[1][1])
        print('slowest routes (requests, seconds): %s' % slowest[:5])
        common = sorted(stats['errors'].items(), key=lambda i: -i[1])
        print('commonest errors: %s' % common[:8])
        for (where, method, _text), entry in sorted(findings.items()):
            print('FINDING %s %s (x%d): %s%s\n  request: %s\n  response: '
                  '%r' % (method, where, entry['count'],
                          '; '.join(entry['problems']),
                          ' (%s)' % entry['error'] if entry['error'] else '',
                          entry['request'], entry['response']))
        for leak in logs.leaks[:10]:
            print('SECRET LOGGED: %s' % leak)
    assert not findings, '%d distinct findings (printed above)' % len(
        findings)
    assert not logs.leaks, 'secrets logged (printed above)'
