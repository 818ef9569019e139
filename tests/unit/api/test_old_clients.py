"""Old clients see only what they know (issue 13 item 7).

For every microversion from 2.1 to the API's maximum, what a server
response can carry is what that microversion defines
(:mod:`tests.unit.api.nova_states`): its status (from
:func:`orchestrator.state_machine.status` at that microversion), its
``OS-EXT-STS:vm_state`` and ``OS-EXT-STS:task_state``, and its fields
(tempest.lib's server schema of that microversion). Every
(vm_state, task_state) pair of the state machine is checked, reachable or
not; a state added internally without a mapping fails the check (the
tests that plant one show it).
"""

import itertools

import pytest

from orchestrator import state_machine as sm
from orchestrator import states as s
from orchestrator.api import microversion
from orchestrator.db import catalog
from tests.unit.api import nova_states
from tests.unit.api import oracle
from tests.unit.api.conftest import call
from tests.unit.api.conftest import make_instance
from tests.unit.api.conftest import make_instance_in_state

#: Every microversion the API serves.
VERSIONS = [(2, minor) for minor in range(microversion.MIN_VERSION.minor,
                                          microversion.MAX_VERSION.minor + 1)]


def _all_pairs():
    """Every (vm_state, task_state) of the state machine's tables, None
    (no task) included; read at call time (tests plant states)."""
    return list(itertools.product(sorted(s.VM_STATES),
                                  [None] + sorted(s.TASK_STATES)))


def problems(versions=VERSIONS):
    """What an old client would be shown that it does not know, as
    (version, vm_state, task_state, what) rows; empty when none.

    A status must be one the microversion defines, and not UNKNOWN: that
    status is what a release shows for a row a newer release wrote, never
    the mapping of a state of its own table (a vm_state with no mapping
    falls back to it, silently). The vm_state is shown as it is, the
    task_state as :func:`orchestrator.state_machine.shown_task_state`
    says, so each must be a value the microversion defines.
    """
    found = []
    for version in versions:
        known = nova_states.statuses_at(version)
        vm_states = nova_states.vm_states_at(version)
        task_states = nova_states.task_states_at(version)
        for vm_state, task_state in _all_pairs():
            status = sm.status(vm_state, task_state, version)
            if status == s.STATUS_UNKNOWN:
                found.append((version, vm_state, task_state,
                              'no mapping: shown UNKNOWN'))
            elif status not in known:
                found.append((version, vm_state, task_state,
                              'status %s unknown at 2.%d'
                              % (status, version[1])))
            if vm_state not in vm_states:
                found.append((version, vm_state, task_state,
                              'vm_state %s unknown at 2.%d'
                              % (vm_state, version[1])))
            if sm.shown_task_state(task_state) not in task_states:
                found.append((version, vm_state, task_state,
                              'task_state %s unknown at 2.%d'
                              % (task_state, version[1])))
    return found


def test_every_pair_at_every_microversion_shows_what_it_defines():
    pairs = _all_pairs()
    assert len(pairs) == len(s.VM_STATES) * (len(s.TASK_STATES) + 1)
    assert VERSIONS[0] == (2, 1) and VERSIONS[-1] == (2, 79)
    assert problems() == []


def test_our_statuses_and_states_are_novas():
    # The lists the API can show at all: a subset of 2.1's.
    assert s.STATUSES <= nova_states.statuses_at((2, 1))
    assert s.VM_STATES <= nova_states.vm_states_at((2, 1))
    assert {sm.shown_task_state(t) for t in s.TASK_STATES} <= \
        nova_states.task_states_at((2, 1))
    # Only what has to be is hidden: a task_state of Nova's is shown.
    assert not set(sm.SHOWN_TASK_STATES) & nova_states.task_states_at(
        (2, 1))
    # A status a later microversion introduces has a fallback known
    # before it, all the way down.
    for status, since in sm.STATUS_MIN_VERSION.items():
        if since > (2, 1):
            assert status in sm.STATUS_FALLBACK, status


def test_a_vm_state_added_without_a_mapping_fails(monkeypatch):
    monkeypatch.delitem(sm._STATUS_MAP, 'shelved')
    found = problems([(2, 1), (2, 47)])
    assert found
    assert {(vm, what) for _v, vm, _t, what in found} == {
        ('shelved', 'no mapping: shown UNKNOWN')}
    # Mapped to a status every client knows, it passes.
    monkeypatch.setitem(sm._STATUS_MAP, 'shelved', (s.STATUS_SHUTOFF, {}))
    assert problems([(2, 1), (2, 47)]) == []


def test_a_vm_state_nova_does_not_define_fails_even_when_mapped(
        monkeypatch):
    monkeypatch.setattr(s, 'VM_STATES', s.VM_STATES | {'hibernated'})
    monkeypatch.setitem(sm._STATUS_MAP, 'hibernated', (s.STATUS_SHUTOFF, {}))
    found = problems([(2, 1)])
    assert found and all(vm == 'hibernated'
                         and what == 'vm_state hibernated unknown at 2.1'
                         for _v, vm, _t, what in found)


def test_a_task_state_nova_does_not_define_fails(monkeypatch):
    monkeypatch.setattr(s, 'TASK_STATES', s.TASK_STATES | {'hibernating'})
    found = problems([(2, 47)])
    assert found
    assert {(t, what) for _v, _vm, t, what in found} == {
        ('hibernating', 'task_state hibernating unknown at 2.47')}


def test_a_new_status_needs_a_fallback_for_older_microversions(
        monkeypatch):
    """A status that only clients of 2.40 and later know: older ones
    must be shown a status they know (STATUS_FALLBACK), not UNKNOWN and
    not the new one."""
    monkeypatch.setitem(nova_states.STATUSES_SINCE, 'HIBERNATED', (2, 40))
    monkeypatch.setitem(sm._STATUS_MAP, s.STOPPED, ('HIBERNATED', {}))
    # The state machine does not know yet that HIBERNATED is new: older
    # clients would be shown it.
    found = problems([(2, 39), (2, 40)])
    assert found and {(v, what) for v, _vm, _t, what in found} == {
        ((2, 39), 'status HIBERNATED unknown at 2.39')}
    # Declared new without a fallback: older clients see UNKNOWN.
    monkeypatch.setitem(sm.STATUS_MIN_VERSION, 'HIBERNATED', (2, 40))
    found = problems([(2, 39), (2, 40)])
    assert found and {(v, what) for v, _vm, _t, what in found} == {
        ((2, 39), 'no mapping: shown UNKNOWN')}
    # With its fallback, every client sees a status it knows.
    monkeypatch.setitem(sm.STATUS_FALLBACK, 'HIBERNATED', s.STATUS_SHUTOFF)
    assert problems([(2, 1), (2, 39), (2, 40)]) == []
    assert sm.status(s.STOPPED, None, (2, 39)) == s.STATUS_SHUTOFF
    assert sm.status(s.STOPPED, None, (2, 40)) == 'HIBERNATED'


# -- the bodies the API serves ---------------------------------------------

@pytest.fixture
def every_state(app):
    """A server in each reachable (vm_state, task_state), on a host."""
    return {pair: make_instance_in_state(pair[0], pair[1], host='host1')
            for pair in sorted(sm.reachable_pairs(),
                               key=lambda p: (p[0], p[1] or ''))}


def _check_bodies(servers, version, by_uuid):
    for server in servers:
        vm_state, task_state = by_uuid[server['id']]
        assert server['status'] == sm.status(vm_state, task_state, version)
        assert server['status'] in nova_states.statuses_at(version)
        assert server['OS-EXT-STS:vm_state'] in \
            nova_states.vm_states_at(version)
        assert server['OS-EXT-STS:task_state'] in \
            nova_states.task_states_at(version)


def _what_a_server_body_may_carry(version):
    """Everything that decides what a server body may carry at
    ``version``: tempest's schema, the statuses and states Nova defines,
    and the status of every pair."""
    return (nova_states.server_schema_module(version),
            nova_states.statuses_at(version),
            nova_states.vm_states_at(version),
            nova_states.task_states_at(version),
            [sm.status(vm_state, task_state, version)
             for vm_state, task_state in _all_pairs()])


def boundary_versions():
    """The first and last microversion and both sides of each one where
    :func:`_what_a_server_body_may_carry` changes: between two boundaries
    a body can carry nothing new, so a field shown a version too early
    or too late shows at one side of a boundary."""
    chosen = {VERSIONS[0], VERSIONS[-1]}
    before = _what_a_server_body_may_carry(VERSIONS[0])
    for previous, version in itertools.pairwise(VERSIONS):
        now = _what_a_server_body_may_carry(version)
        if now != before:
            chosen.update((previous, version))
        before = now
    return sorted(chosen)


def test_boundary_versions_include_every_schema_change():
    chosen = boundary_versions()
    changes = [v for p, v in itertools.pairwise(VERSIONS)
               if nova_states.server_schema_module(p)
               != nova_states.server_schema_module(v)]
    assert len(changes) == 22
    for version in changes:
        previous = VERSIONS[VERSIONS.index(version) - 1]
        assert {previous, version} <= set(chosen), version
    assert chosen[0] == (2, 1) and chosen[-1] == (2, 79)
    assert len(chosen) < len(VERSIONS)


@pytest.mark.parametrize('persona', ['admin', 'member'])
def test_server_bodies_at_every_microversion_match_tempest(
        request, every_state, persona):
    """GET /servers/detail at each side of every microversion boundary
    (:func:`boundary_versions`): every server body (one per reachable
    state) matches tempest.lib's schema of that version (no field it
    does not name) and carries only statuses and states the version
    defines; GET /servers/{id} likewise at the versions where the
    schema changes."""
    app = request.getfixturevalue('app' if persona == 'admin'
                                  else 'member_app')
    by_uuid = {i['uuid']: pair for pair, i in every_state.items()}
    limit = '?limit=%d' % (len(by_uuid) + 1)
    shown_schemas = set()
    for version in boundary_versions():
        text = '2.%d' % version[1]
        module = nova_states.server_schema_module(version)
        resp = call(app, 'GET', '/v2.1/servers/detail' + limit,
                    version=text)
        assert resp.headers['OpenStack-API-Version'] == 'compute ' + text
        body = oracle.check(resp, module, 'servers', 'list_servers_detail')
        assert {srv['id'] for srv in body['servers']} == set(by_uuid)
        _check_bodies(body['servers'], version, by_uuid)
        if module in shown_schemas:
            continue
        shown_schemas.add(module)
        for uuid_ in by_uuid:
            resp = call(app, 'GET', '/v2.1/servers/' + uuid_, version=text)
            server = oracle.check(resp, module, 'servers',
                                  'get_server')['server']
            _check_bodies([server], version, by_uuid)
    assert len(shown_schemas) == 23  # v2_1 ... v2_79 schema packages


@pytest.mark.parametrize('version', ['2.1', '2.75'])
def test_rebuild_response_shows_the_new_image_and_name(app, conductor,
                                                       version):
    """Nova saves the rebuild's image and name before it runs: its
    response shows them (tempest test_rebuild_server and
    test_rebuild_server_in_stop_state compare the response's image with
    the one asked for), not the ones the guest still has."""
    other = catalog.DEFAULT_IMAGES[1][0]
    instance = make_instance(s.ACTIVE, host='host1')
    assert instance['image_ref'] != other
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'rebuild': {'imageRef': other, 'name': 'reborn'}},
                version=version)
    assert resp.status_int == 202, resp.text
    assert resp.json['server']['image']['id'] == other
    assert resp.json['server']['name'] == 'reborn'
    resp = call(app, 'POST', '/v2.1/servers/%s/action' % instance['uuid'],
                {'rebuild': {'imageRef': other}}, version=version)
    assert resp.status_int == 409  # claimed by the first: nothing shown


def test_rebuild_response_at_every_microversion_matches_tempest(
        app, conductor):
    """The other response that carries a server body: a rebuild's (202,
    status REBUILD, task_state rebuilding), at each microversion against
    tempest.lib's rebuild schema of that version: before 2.75 Nova shows
    it without the extensions (it carried every OS-EXT-* field, key_name,
    security_groups... and addresses with OS-EXT-IPS, which tempest's
    schemas refuse, until views.servers.rebuild), from 2.75 as the full
    server."""
    for version in VERSIONS:
        text = '2.%d' % version[1]
        instance = make_instance(s.ACTIVE, host='host1', networks=[{
            'network': 'private', 'mac_addr': 'fa:16:3e:00:00:01',
            'ips': [{'addr': '10.0.0.3', 'version': 4, 'type': 'fixed'}]}])
        resp = call(app, 'POST',
                    '/v2.1/servers/%s/action' % instance['uuid'],
                    {'rebuild': {'imageRef': instance['image_ref']}},
                    version=text)
        server = oracle.check(resp, nova_states.server_schema_module(version),
                              'servers', 'rebuild_server_with_admin_pass'
                              )['server']
        assert server['status'] == s.STATUS_REBUILD
        address = {'version': 4, 'addr': '10.0.0.3'}
        if version >= (2, 75):
            # The full server body: its addresses with OS-EXT-IPS too.
            address.update({'OS-EXT-IPS:type': 'fixed',
                            'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'})
        assert server['addresses'] == {'private': [address]}
        assert server['adminPass']
        assert ('locked' in server) == (version >= (2, 9))
        assert ('tags' in server) == (version >= (2, 26))
        assert ('key_name' in server) == (version >= (2, 54))
        assert ('user_data' in server) == (version >= (2, 57))
        assert ('OS-EXT-STS:vm_state' in server) == (version >= (2, 75))
        assert ('OS-EXT-SRV-ATTR:user_data' in server) is False
