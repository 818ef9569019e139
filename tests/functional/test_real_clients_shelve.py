"""openstackclient, unchanged, on shelving against the all-in-one over
HTTP: server shelve (offloaded at once, [DEFAULT] shelved_offload_time
0: SHELVED_OFFLOADED, no host, its image '<name>-shelved' active) and
server unshelve (ACTIVE on a host, the image gone)."""

import json

from orchestrator.db import actions

from tests.functional import api_helpers
from tests.functional.test_real_clients import _create
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_shelve_and_unshelve(openstack,  # noqa: F811
                                             api_system):
    server_id = _create(openstack, api_system, 'm1.tiny', 'shelf')
    openstack('server', 'shelve', 'shelf')
    shelved = api_helpers.wait_stable(api_system, server_id,
                                      'SHELVED_OFFLOADED')
    assert shelved['OS-EXT-SRV-ATTR:host'] is None
    image = json.loads(openstack('image', 'show', '-f', 'json',
                                 'shelf-shelved'))
    assert image['status'] == 'active'
    openstack('server', 'unshelve', 'shelf')
    active = api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    assert active['OS-EXT-SRV-ATTR:host']
    listed = json.loads(openstack('image', 'list', '-f', 'json'))
    assert 'shelf-shelved' not in {i['Name'] for i in listed}
    done = [a['action'] for a in actions.list_for_instance(server_id)]
    assert done[:2] == ['unshelve', 'shelve'], done
