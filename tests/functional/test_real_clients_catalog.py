"""openstackclient, unchanged, on flavors and keypairs against the
all-in-one over HTTP: flavor create (with properties, private), set
--property, unset, show, list --long, delete; keypair create, list, delete;
server create --key-name (and its 400 for a keypair that does not
exist)."""

import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_flavors_and_keypairs(openstack,  # noqa: F811
                                              api_system):
    flavor = json.loads(openstack(
        'flavor', 'create', '--ram', '256', '--vcpus', '1', '--disk', '1',
        '--ephemeral', '1', '--swap', '32', '--private',
        '--property', 'hw:cpu_policy=dedicated', '-f', 'json', 'cli-flavor'))
    assert flavor['name'] == 'cli-flavor'
    assert flavor['os-flavor-access:is_public'] is False
    openstack('flavor', 'set', '--property', 'quota:cpu_shares=512',
              'cli-flavor')
    shown = json.loads(openstack('flavor', 'show', '-f', 'json',
                                 'cli-flavor'))
    assert shown['properties'] == {'hw:cpu_policy': 'dedicated',
                                   'quota:cpu_shares': '512'}
    assert (shown['ram'], shown['OS-FLV-EXT-DATA:ephemeral']) == (256, 1)
    listed = json.loads(openstack('flavor', 'list', '--long', '--all',
                                  '-f', 'json'))
    [row] = [f for f in listed if f['Name'] == 'cli-flavor']
    assert row['Properties'] == {'hw:cpu_policy': 'dedicated',
                                 'quota:cpu_shares': '512'}
    openstack('flavor', 'unset', '--property', 'quota:cpu_shares',
              'cli-flavor')
    assert json.loads(openstack('flavor', 'show', '-f', 'json',
                                'cli-flavor'))['properties'] == {
        'hw:cpu_policy': 'dedicated'}
    # NOTE: 'flavor set --project' looks the project up in Keystone
    # first: not with auth_type none (tests/unit/api/test_flavor_manage.py
    # covers the access API).
    assert json.loads(openstack('flavor', 'show', '-f', 'json',
                                'cli-flavor'))['access_project_ids'] == []
    openstack('flavor', 'delete', 'cli-flavor')
    names = [f['Name'] for f in json.loads(openstack(
        'flavor', 'list', '--all', '-f', 'json'))]
    assert 'cli-flavor' not in names

    created = openstack('keypair', 'create', 'cli-key')
    assert 'PRIVATE KEY-----' in created
    keys = json.loads(openstack('keypair', 'list', '-f', 'json'))
    assert [k['Name'] for k in keys] == ['cli-key']
    server = json.loads(openstack(
        'server', 'create', '--flavor', 'm1.tiny', '--image',
        'cirros-0.6.2', '--key-name', 'cli-key', '-f', 'json', 'keyed'))
    api_helpers.wait_stable(api_system, server['id'], 'ACTIVE')
    assert json.loads(openstack('server', 'show', '-f', 'json',
                                server['id']))['key_name'] == 'cli-key'
    openstack('keypair', 'delete', 'cli-key')
    assert json.loads(openstack('keypair', 'list', '-f', 'json')) == []
    try:
        openstack('server', 'create', '--flavor', 'm1.tiny', '--image',
                  'cirros-0.6.2', '--key-name', 'cli-key', 'unkeyed')
    except AssertionError as e:
        assert 'Invalid key_name provided.' in str(e)
    else:
        raise AssertionError('server create with a deleted keypair passed')
