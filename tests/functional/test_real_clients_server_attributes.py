"""openstackclient, unchanged, on what a user sets on a server against
the all-in-one over HTTP: server set --name/--description/--property,
server unset --property, server lock/unlock, and availability zone list.
"""

import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import _create
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_server_set_unset_lock_and_zones(
        openstack, api_system):  # noqa: F811
    server_id = _create(openstack, api_system, 'm1.tiny', 'attrs')
    openstack('server', 'set', '--name', 'renamed', '--description',
              'the db', '--property', 'role=db', '--property', 'tier=1',
              'attrs')
    shown = json.loads(openstack('server', 'show', '-f', 'json',
                                 'renamed'))
    assert shown['id'] == server_id
    assert shown['description'] == 'the db'
    assert shown['properties'] == {'role': 'db', 'tier': '1'}
    assert shown['OS-EXT-AZ:availability_zone'] == 'nova'
    openstack('server', 'unset', '--property', 'tier', 'renamed')
    assert api_helpers.api(
        api_system, 'GET', '/v2.1/servers/%s/metadata' % server_id
    ).json() == {'metadata': {'role': 'db'}}

    openstack('server', 'lock', 'renamed')
    assert api_helpers.server(api_system, server_id)['locked'] is True
    openstack('server', 'unlock', 'renamed')
    assert api_helpers.server(api_system, server_id)['locked'] is False

    # openstackclient reads the detailed list (we are an administrator
    # here): the conductors' 'internal' zone is in it, as in Nova.
    zones = json.loads(openstack('availability', 'zone', 'list',
                                 '--compute', '--long', '-f', 'json'))
    assert {z['Zone Name'] for z in zones} == {'internal', 'nova'}
    assert {z['Zone Status'] for z in zones} == {'available'}
    assert {z['Host Name'] for z in zones if z['Zone Name'] == 'nova'} == {
        c.host for c in api_system.computes}
