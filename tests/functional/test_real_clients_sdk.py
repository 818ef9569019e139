"""openstacksdk (the ``openstack`` package, unchanged) against the
all-in-one over HTTP, through the clouds.yaml the README documents: the
items of issue 14's list that openstackclient's tests reach through
their own code rather than the SDK's compute proxy: flavors with extra
specs and access, keypairs, server update/metadata/tags, console output,
availability zones, limits, simple tenant usage, server groups (create,
boot with the group hint), multiple create (min/max count),
lock/unlock, createBackup, changePassword, trigger_crash_dump,
shelve/unshelve, services disable/enable/force-down, hypervisors, and
delete with the SDK's wait_for_delete. One all-in-one, one test.
"""

import datetime

import openstack
import openstack.exceptions

from tests.functional import api_helpers
from tests.functional.test_real_clients import CLOUDS_YAML
from tests.waiting import wait_for

CIRROS = 'cirros-0.6.2'


def _connect(api_system, tmp_path, monkeypatch):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(CLOUDS_YAML.format(url=api_system.url))
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    return openstack.connect(cloud='orchestrator')


def _wait(conn, server, status='ACTIVE'):
    return conn.compute.wait_for_server(server, status=status, interval=0.3,
                                        wait=60)


def _flavors(conn):
    flavor = conn.compute.create_flavor(
        name='sdk-flavor', ram=256, vcpus=1, disk=1, is_public=False)
    assert flavor.is_public is False
    specs = conn.compute.create_flavor_extra_specs(
        flavor, {'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': '512'})
    assert specs.extra_specs == {'hw:cpu_policy': 'dedicated',
                                 'quota:cpu_shares': '512'}
    assert conn.compute.get_flavor_extra_specs_property(
        flavor, 'hw:cpu_policy') == 'dedicated'
    conn.compute.update_flavor_extra_specs_property(
        flavor, 'quota:cpu_shares', '1024')
    conn.compute.delete_flavor_extra_specs_property(flavor, 'hw:cpu_policy')
    assert conn.compute.fetch_flavor_extra_specs(flavor).extra_specs == {
        'quota:cpu_shares': '1024'}
    conn.compute.flavor_add_tenant_access(flavor, 'sdk-project')
    assert [a['tenant_id'] for a in conn.compute.get_flavor_access(
        flavor)] == ['sdk-project']
    conn.compute.flavor_remove_tenant_access(flavor, 'sdk-project')
    assert conn.compute.get_flavor_access(flavor) == []
    conn.compute.delete_flavor(flavor)
    assert conn.compute.find_flavor('sdk-flavor') is None


def _keypair(conn):
    keypair = conn.compute.create_keypair(name='sdk-key')
    assert 'PRIVATE KEY-----' in keypair.private_key
    assert [k.name for k in conn.compute.keypairs()] == ['sdk-key']
    return keypair


def _server_attributes(conn, server):
    updated = conn.compute.update_server(server, name='sdk-renamed',
                                         description='by the sdk')
    assert (updated.name, updated.description) == ('sdk-renamed',
                                                   'by the sdk')
    conn.compute.set_server_metadata(server, role='db', tier='1')
    conn.compute.delete_server_metadata(server, ['tier'])
    assert conn.compute.get_server_metadata(server).metadata == {
        'role': 'db'}
    conn.compute.add_tag_to_server(server, 'blue')
    conn.compute.add_tag_to_server(server, 'green')
    conn.compute.remove_tag_from_server(server, 'blue')
    assert conn.compute.get_server(server).tags == ['green']
    output = conn.compute.get_server_console_output(server, length=3)
    assert 'login:' in output['output']
    conn.compute.lock_server(server, locked_reason='sdk')
    shown = conn.compute.get_server(server)
    assert (shown.is_locked, shown.locked_reason) == (True, 'sdk')
    conn.compute.unlock_server(server)
    assert conn.compute.get_server(server).is_locked is False


def _guest_actions(conn, api_system, server):
    def idle(status='ACTIVE'):
        # The SDK's wait_for_server looks at the status only; an action
        # still running shows ACTIVE with its task_state.
        api_helpers.wait_stable(api_system, server.id, status)
        return conn.compute.get_server(server)

    image = conn.compute.backup_server(server, 'sdk-backup', 'daily', 1)
    assert image.name == 'sdk-backup'
    idle()
    conn.compute.change_server_password(server, 'sdk-Secret-1')
    idle()
    conn.compute.trigger_server_crash_dump(server)
    wait_for(lambda: api_helpers.guest(api_system, server.id)[1].get(
        'crash_dumps') == 1, timeout=30, what='the NMI')

    def shelve():
        # The crash dump's task_state is not shown (Nova has none): a
        # client learns it has ended when the next action is taken.
        try:
            conn.compute.shelve_server(server)
        except openstack.exceptions.ConflictException as e:
            assert 'triggering_crash_dump' in str(e), e
            return False
        return True

    wait_for(shelve, timeout=30, what='the crash dump to end')
    assert idle('SHELVED_OFFLOADED').compute_host is None
    conn.compute.unshelve_server(server)
    assert idle().compute_host is not None
    actions = [a['action'] for a in api_helpers.api(
        api_system, 'GET', '/v2.1/servers/%s/os-instance-actions'
        % server.id).json()['instanceActions']]
    for name in ('createBackup', 'changePassword', 'trigger_crash_dump',
                 'shelve', 'unshelve'):
        assert name in actions, (name, actions)


def _infrastructure(conn, api_system):
    zones = list(conn.compute.availability_zones())
    assert [z.name for z in zones] == ['nova']
    hypervisors = list(conn.compute.hypervisors(details=True))
    assert len(hypervisors) == len(api_system.computes)
    shown = conn.compute.get_hypervisor(hypervisors[0].id)
    assert shown.name == hypervisors[0].name
    host = api_system.computes[-1].host
    [service] = [s for s in conn.compute.services()
                 if s.host == host and s.binary == 'orchestrator-compute']
    conn.compute.disable_service(service, disabled_reason='sdk maintenance')
    conn.compute.update_service_forced_down(service, forced=True)
    [after] = [s for s in conn.compute.services() if s.id == service.id]
    assert (after.status, after.disabled_reason, after.is_forced_down) == (
        'disabled', 'sdk maintenance', True)
    conn.compute.update_service_forced_down(service, forced=False)
    conn.compute.enable_service(service)
    [after] = [s for s in conn.compute.services() if s.id == service.id]
    assert (after.status, after.is_forced_down) == ('enabled', False)


def test_openstacksdk_compute_proxy(api_system, tmp_path, monkeypatch):
    conn = _connect(api_system, tmp_path, monkeypatch)
    _flavors(conn)
    keypair = _keypair(conn)
    _infrastructure(conn, api_system)
    group = conn.compute.create_server_group(name='sdk-group',
                                             policy='anti-affinity')
    image = conn.compute.find_image(CIRROS)
    flavor = conn.compute.find_flavor('m1.tiny')
    conn.compute.create_server(
        name='sdk', image_id=image.id, flavor_id=flavor.id,
        key_name=keypair.name, min_count=2, max_count=2,
        networks='none', scheduler_hints={'group': group.id})
    servers = sorted(conn.compute.servers(), key=lambda s: s.name)
    assert [s.name for s in servers] == ['sdk-1', 'sdk-2']
    servers = [_wait(conn, s) for s in servers]
    assert len({s.compute_host for s in servers}) == 2
    assert {s.key_name for s in servers} == {'sdk-key'}
    assert sorted(conn.compute.get_server_group(group).member_ids) == \
        sorted(s.id for s in servers)

    limits = conn.compute.get_limits()
    assert (limits.absolute.instances_used,
            limits.absolute.total_cores_used) == (2, 2)
    # Naive (UTC): Nova's os-simple-tenant-usage, like this one, takes no
    # offset in its dates (400 'Datetime is in invalid format').
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    [usage] = list(conn.compute.usages(
        start=now - datetime.timedelta(days=1),
        end=now + datetime.timedelta(days=1), detailed=1))
    assert sorted(u['name'] for u in usage.server_usages) == [
        'sdk-1', 'sdk-2']

    _server_attributes(conn, servers[0])
    _guest_actions(conn, api_system, servers[1])

    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.3, wait=60)
        assert conn.compute.find_server(server.id) is None
    conn.compute.delete_server_group(group)
    conn.compute.delete_keypair(keypair)
    assert list(conn.compute.keypairs()) == []
