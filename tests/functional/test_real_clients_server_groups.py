"""openstackclient, unchanged, on server groups against the all-in-one
over HTTP: server group create (--policy, --rule with the microversion
it negotiates), list, show, server create --hint group=..., delete."""

import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_server_groups(openstack, api_system):  # noqa: F811
    group = json.loads(openstack(
        'server', 'group', 'create', '--policy', 'anti-affinity',
        '--rule', 'max_server_per_host=2', '-f', 'json', 'cli-group'))
    # openstackclient negotiates 2.64+: policy and rules, no policies.
    assert (group['name'], group['policy'], group['rules'],
            group['members']) == ('cli-group', 'anti-affinity',
                                  {'max_server_per_host': 2}, [])
    listed = json.loads(openstack('server', 'group', 'list', '-f', 'json'))
    assert [g['Name'] for g in listed] == ['cli-group']

    first = json.loads(openstack(
        'server', 'create', '--flavor', 'm1.tiny', '--image',
        'cirros-0.6.2', '--hint', 'group=%s' % group['id'], '-f', 'json',
        'member-1'))
    api_helpers.wait_stable(api_system, first['id'], 'ACTIVE')
    shown = json.loads(openstack('server', 'group', 'show', '-f', 'json',
                                 'cli-group'))
    assert first['id'] in str(shown['members'])

    openstack('server', 'group', 'delete', 'cli-group')
    assert json.loads(openstack('server', 'group', 'list', '-f',
                                'json')) == []
