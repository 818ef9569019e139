"""openstackclient, unchanged, on host aggregates against the all-in-one
over HTTP: aggregate create --zone, add host (the host moves to the
aggregate's zone in availability zone list), set --property, show,
remove host (back to its own zone), delete."""

import json

from tests.functional.test_real_clients import openstack  # noqa: F401


def _zones(openstack):  # noqa: F811
    return {z['Zone Name'] for z in json.loads(openstack(
        'availability', 'zone', 'list', '--compute', '-f', 'json'))}


def test_openstackclient_aggregates(openstack, api_system):  # noqa: F811
    host = api_system.computes[0].host
    created = json.loads(openstack('aggregate', 'create', '--zone',
                                   'cli-zone', '-f', 'json', 'cli-agg'))
    assert (created['name'], created['availability_zone']) == (
        'cli-agg', 'cli-zone')
    added = json.loads(openstack('aggregate', 'add', 'host', '-f', 'json',
                                 'cli-agg', host))
    assert added['hosts'] == [host]
    assert 'cli-zone' in _zones(openstack)
    openstack('aggregate', 'set', '--property', 'ssd=true', 'cli-agg')
    shown = json.loads(openstack('aggregate', 'show', '-f', 'json',
                                 'cli-agg'))
    assert shown['properties'] == {'ssd': 'true'}
    removed = json.loads(openstack('aggregate', 'remove', 'host', '-f',
                                   'json', 'cli-agg', host))
    assert removed['hosts'] == []
    openstack('aggregate', 'delete', 'cli-agg')
    assert json.loads(openstack('aggregate', 'list', '-f', 'json')) == []
