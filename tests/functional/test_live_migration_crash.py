"""SIGKILL the all-in-one in the middle of a live migration, start it
again on the same state dir: before the point of no return the migration
is rolled back (its resume policy is revert), past it the migration is
finished. Either way the invariant of :mod:`tests.functional.invariants`
holds afterwards.
"""

import pytest
import sqlalchemy as sa

from orchestrator.compute.drivers import fake_faults

from tests.crash import harness
from tests.functional import invariants
from tests.functional.systems import free_port
from tests.waiting import wait_for


@pytest.fixture
def aio(tmp_path):
    node = harness.AllInOneProcess(tmp_path / 'state', free_port())
    node.start()
    yield node
    node.stop()
    node.close()


def _boot(aio):
    flavor = aio.api('GET', '/v2.1/flavors').json()['flavors'][0]
    image = aio.api('GET', '/image/v2/images?name=cirros-0.6.2').json()[
        'images'][0]
    resp = aio.api('POST', '/v2.1/servers', json={'server': {
        'name': 'lm', 'imageRef': image['id'], 'flavorRef': flavor['id']}})
    assert resp.status_code == 202, resp.text
    server_id = resp.json()['server']['id']
    wait_for(lambda: (aio.server(server_id) or {}).get('status') ==
             'ACTIVE', timeout=60, what='boot')
    return server_id, aio.server(server_id)['OS-EXT-SRV-ATTR:host']


def _live_migrate(aio, server_id):
    resp = aio.api('POST', '/v2.1/servers/%s/action' % server_id,
                   headers={'OpenStack-API-Version': 'compute 2.47'},
                   json={'os-migrateLive': {'host': None,
                                            'block_migration': 'auto'}})
    assert resp.status_code == 202, resp.text


def _calls(aio, method):
    return sum(calls.get(method, 0) for calls in aio.calls().values())


def _converged(aio, server_id):
    """The server once its live migration's action finished; the
    migration's status."""
    def finished():
        with aio.db().connect() as c:
            return c.execute(sa.text(
                "select result from instance_actions where instance_uuid "
                "= :u and action = 'live-migration' and finish_time is not "
                "null"), {'u': server_id}).scalar_one_or_none()
    result = wait_for(finished, timeout=90, what='the migration to end')
    server = aio.server(server_id)
    assert server['OS-EXT-STS:task_state'] is None, server
    with aio.db().connect() as c:
        status = c.execute(sa.text(
            'select status from migrations where instance_uuid = :u'),
            {'u': server_id}).scalar_one()
    invariants.check_engine(aio.db(), aio.hosts_dir, aio.hosts)
    return result, server, status


def test_sigkill_during_the_copy_then_restart_rolls_back(aio):
    server_id, source = _boot(aio)
    aio.faults({'live_migration': {'delay_s': 8}})
    _live_migrate(aio, server_id)
    wait_for(lambda: _calls(aio, 'live_migration') >= 1, timeout=30,
             what='the copy to start')
    aio.kill()
    aio.faults({})
    aio.start()
    result, server, status = _converged(aio, server_id)
    assert (result, status) == ('Error', 'failed')
    assert (server['status'], server['OS-EXT-SRV-ATTR:host']) == (
        'ACTIVE', source)
    assert _calls(aio, 'rollback_live_migration') >= 1
    assert _calls(aio, 'post_live_migration_at_destination') == 0


def test_sigkill_past_the_point_of_no_return_then_restart_finishes(aio):
    server_id, source = _boot(aio)
    # The destination runs the guest, then the whole process dies before
    # the flow hears of it.
    aio.faults({'post_live_migration_at_destination': {
        'fault': 'crash', 'when': 'after'}})
    _live_migrate(aio, server_id)
    assert aio.wait_exit(60) == fake_faults.CRASH_EXIT_CODE, aio.log()
    aio.faults({})
    aio.start()
    result, server, status = _converged(aio, server_id)
    assert (result, status) == ('Success', 'completed')
    assert server['status'] == 'ACTIVE'
    assert server['OS-EXT-SRV-ATTR:host'] != source
    assert _calls(aio, 'rollback_live_migration') == 0
