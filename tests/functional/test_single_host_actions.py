"""rebuild, rescue/unrescue, createImage, soft delete/restore over HTTP.

For each: the happy path with the exact statuses a polling client sees, a
failure injected at each host step with its rollback checked (state as
before or error past the point of no return, fault recorded, host
clean), and preemption by a delete.
"""

import pytest

from orchestrator import states
from orchestrator.db import actions
from orchestrator.db import instances

from tests.functional import api_helpers as h
from tests.functional import systems
from tests.waiting import wait_for


def _images(system):
    return h.api(system, 'GET', '/image/v2/images').json()['images']


def _other_image(system, server_id):
    current = h.server(system, server_id)['image']['id']
    return next(i['id'] for i in _images(system) if i['id'] != current)


def _finished_action(server_id, name):
    """The last action ``name`` of the server, once it finished."""
    def finished():
        found = [a for a in actions.list_for_instance(server_id)
                 if a['action'] == name and a['finish_time']]
        return found[0] if found else None
    return wait_for(finished, timeout=30, what='%s to finish' % name)


def _fault(server_id):
    """The message of the server's latest fault (shown by the API only
    in ERROR, recorded always)."""
    return instances.latest_fault(server_id)['message']


def _events(action):
    return [e['event'] for e in actions.events_for(action['id'])]


# -- rebuild --------------------------------------------------------------

def test_rebuild_shows_rebuild_then_active_with_the_new_image(api_system):
    server_id = h.boot(api_system)
    new_image = _other_image(api_system, server_id)
    h.inject(api_system, {'rebuild': {'delay_s': 0.5}})
    resp = h.act(api_system, server_id, {'rebuild': {
        'imageRef': new_image, 'name': 'renamed'}})
    body = resp.json()['server']
    assert body['status'] == 'REBUILD' and body['adminPass']
    seen = h.status_pairs_until(api_system, server_id, 'ACTIVE')
    assert [status for status, _task in seen] == ['REBUILD'] * (
        len(seen) - 1) + ['ACTIVE'], seen
    assert ('REBUILD', states.REBUILD_SPAWNING) in seen
    after = h.server(api_system, server_id)
    assert after['image']['id'] == new_image
    assert after['name'] == 'renamed'
    _host, guest = h.guest(api_system, server_id)
    assert guest['image_id'] == new_image and guest['rebuilds'] == 1
    assert guest['power_state'] == states.RUNNING
    action = _finished_action(server_id, 'rebuild')
    assert action['result'] == states.RESULT_SUCCESS
    assert _events(action) == ['RebuildSentinel', 'FetchRebuildImage',
                               'RebuildOnHost', 'FinishRebuild']


def test_rebuild_of_a_stopped_server_keeps_it_stopped(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'SHUTOFF')
    h.act(api_system, server_id, {'rebuild': {
        'imageRef': _other_image(api_system, server_id)}})
    seen = h.status_pairs_until(api_system, server_id, 'SHUTOFF')
    assert {status for status, _task in seen} <= {'REBUILD', 'SHUTOFF'}
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.SHUTDOWN


def test_rebuild_fetch_failure_leaves_server_as_it_was(api_system):
    server_id = h.boot(api_system)
    old_image = h.server(api_system, server_id)['image']['id']
    h.inject(api_system, {'fetch_image': 'raise'})
    h.act(api_system, server_id, {'rebuild': {
        'imageRef': _other_image(api_system, server_id)}})
    action = _finished_action(server_id, 'rebuild')
    assert action['result'] == states.RESULT_ERROR
    after = h.wait_stable(api_system, server_id, 'ACTIVE')
    assert after['image']['id'] == old_image
    assert 'Injected fault in fetch_image' in _fault(server_id)
    assert h.guest(api_system, server_id)[1]['image_id'] == old_image
    assert 'FetchRebuildImage:revert' in _events(action)


@pytest.mark.parametrize('when', ['before', 'after'])
def test_rebuild_failing_on_host_is_past_return_error_then_rebuildable(
        api_system, when):
    server_id = h.boot(api_system)
    new_image = _other_image(api_system, server_id)
    h.inject(api_system, {'rebuild': {'fault': 'raise', 'when': when}})
    h.act(api_system, server_id, {'rebuild': {'imageRef': new_image}})
    h.wait_stable(api_system, server_id, 'ERROR')
    assert 'Injected fault in rebuild' in _fault(server_id)
    # The way out of a failed rebuild is another rebuild.
    h.inject(api_system, {})
    h.act(api_system, server_id, {'rebuild': {'imageRef': new_image}})
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert h.guest(api_system, server_id)[1]['image_id'] == new_image


def test_rebuild_refuses_unknown_image_before_claiming(api_system):
    server_id = h.boot(api_system)
    resp = h.act(api_system, server_id, {'rebuild': {
        'imageRef': '00000000-0000-0000-0000-000000000000'}}, expect=400)
    assert 'could not be found' in resp.text or 'not' in resp.text
    h.act(api_system, server_id, {'rebuild': {}}, expect=400)
    assert h.server(api_system, server_id)['OS-EXT-STS:task_state'] is None


def test_delete_during_rebuild_download_never_rebuilds(api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'fetch_image': {'delay_s': 2.0}})
    # A second image is not cached yet: the download is slow.
    h.act(api_system, server_id, {'rebuild': {
        'imageRef': _other_image(api_system, server_id)}})
    wait_for(lambda: h.calls(api_system, 'fetch_image') >= 2,
             what='the rebuild download to start')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    wait_for(lambda: h.api(api_system, 'GET', '/v2.1/servers/' + server_id)
             .status_code == 404, timeout=60, what='the delete')
    action = _finished_action(server_id, 'rebuild')
    assert action['result'] == states.RESULT_ERROR
    assert h.calls(api_system, 'rebuild') == 0
    assert h.host_leftovers(api_system, server_id) == []


# -- rescue / unrescue ----------------------------------------------------

def test_rescue_returns_password_shows_rescue_and_unrescue_undoes_it(
        api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'rescue': {'delay_s': 0.4},
                          'unrescue': {'delay_s': 0.4}})
    resp = h.act(api_system, server_id, {'rescue': {'adminPass': 'sekrit'}},
                 expect=200)
    assert resp.json() == {'adminPass': 'sekrit'}
    # As in Nova, a server being rescued still shows ACTIVE.
    seen = h.status_pairs_until(api_system, server_id, 'RESCUE')
    assert seen == [('ACTIVE', states.RESCUING), ('RESCUE', None)], seen
    _host, guest = h.guest(api_system, server_id)
    assert guest['rescue']['image_id'] == h.server(
        api_system, server_id)['image']['id']
    assert 'sekrit' not in str(guest)
    h.act(api_system, server_id, {'unrescue': None})
    seen = h.status_pairs_until(api_system, server_id, 'ACTIVE')
    assert seen == [('RESCUE', states.UNRESCUING), ('ACTIVE', None)], seen
    assert h.guest(api_system, server_id)[1]['rescue'] is None
    assert _events(_finished_action(server_id, 'rescue')) == [
        'ClearTaskOnRevert', 'FetchRescueImage', 'RescueOnHost',
        'FinishPowerAction']


def test_rescue_generates_a_password_and_takes_a_rescue_image(api_system):
    server_id = h.boot(api_system)
    rescue_image = _other_image(api_system, server_id)
    resp = h.act(api_system, server_id,
                 {'rescue': {'rescue_image_ref': rescue_image}},
                 expect=200)
    assert len(resp.json()['adminPass']) == 12
    h.wait_stable(api_system, server_id, 'RESCUE')
    assert h.guest(api_system, server_id)[1]['rescue']['image_id'] == \
        rescue_image


@pytest.mark.parametrize('method,when', [('fetch_image', 'before'),
                                         ('rescue', 'before'),
                                         ('rescue', 'after')])
def test_rescue_failure_on_each_step_is_undone(api_system, method, when):
    server_id = h.boot(api_system)
    h.inject(api_system, {method: {'fault': 'raise', 'when': when}})
    h.act(api_system, server_id, {'rescue': {
        'rescue_image_ref': _other_image(api_system, server_id)}},
        expect=200)
    action = _finished_action(server_id, 'rescue')
    assert action['result'] == states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert 'Injected fault in %s' % method in _fault(server_id)
    _host, guest = h.guest(api_system, server_id)
    assert guest.get('rescue') is None
    assert guest['power_state'] == states.RUNNING


def test_unrescue_failure_keeps_rescue(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'rescue': None}, expect=200)
    h.wait_stable(api_system, server_id, 'RESCUE')
    h.inject(api_system, {'unrescue': 'raise'})
    h.act(api_system, server_id, {'unrescue': None})
    assert _finished_action(server_id, 'unrescue')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'RESCUE')
    assert 'Injected fault in unrescue' in _fault(server_id)
    assert h.guest(api_system, server_id)[1]['rescue'] is not None


# -- createImage ----------------------------------------------------------

def test_create_image_goes_snapshot_uploading_and_the_image_is_active(
        api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'snapshot': {'delay_s': 0.4},
                          'upload_snapshot': {'delay_s': 0.8}})
    resp = h.act(api_system, server_id, {'createImage': {
        'name': 'snap-1', 'metadata': {'purpose': 'test'}}})
    image_id = resp.json()['image_id']
    assert resp.headers['Location'].endswith('/image/v2/images/' + image_id)
    seen = h.status_pairs_until(api_system, server_id, 'ACTIVE')
    tasks = [task for _status, task in seen]
    assert tasks == [states.IMAGE_SNAPSHOT, states.IMAGE_UPLOADING, None], \
        seen
    image = h.api(api_system, 'GET', '/image/v2/images/' + image_id).json()
    assert image['status'] == 'active' and image['name'] == 'snap-1'
    assert image['size'] > 0 and image['checksum']
    assert image_id in {i['id'] for i in _images(api_system)}
    # The host kept no local copy; the new image boots.
    assert h.host_leftovers(api_system, server_id, ['snapshots']) == []
    resp = h.api(api_system, 'POST', '/v2.1/servers', json={'server': {
        'name': 'from-snap', 'flavorRef': '1', 'imageRef': image_id,
        'networks': 'auto'}})
    assert resp.status_code == 202, resp.text
    h.wait_stable(api_system, resp.json()['server']['id'], 'ACTIVE')
    assert _events(_finished_action(server_id, 'createImage')) == [
        'ClearTaskOnRevert', 'DeleteImageOnRevert', 'SnapshotOnHost',
        'UploadSnapshot', 'FinishSnapshot']


def test_create_image_before_2_45_answers_with_location_only(api_system):
    server_id = h.boot(api_system)
    resp = h.api(api_system, 'POST', '/v2.1/servers/%s/action' % server_id,
                 json={'createImage': {'name': 'old-client'}},
                 headers={'OpenStack-API-Version': 'compute 2.1'})
    assert resp.status_code == 202 and not resp.content
    assert '/image/v2/images/' in resp.headers['Location']
    h.wait_stable(api_system, server_id, 'ACTIVE')


@pytest.mark.parametrize('method', ['snapshot', 'upload_snapshot',
                                    'delete_snapshot'])
def test_create_image_failure_on_each_step_deletes_the_image(api_system,
                                                             method):
    server_id = h.boot(api_system)
    h.inject(api_system, {method: 'raise'})
    resp = h.act(api_system, server_id, {'createImage': {'name': 'bad'}})
    image_id = resp.json()['image_id']
    action = _finished_action(server_id, 'createImage')
    assert action['result'] == states.RESULT_ERROR
    assert h.api(api_system, 'GET',
                 '/image/v2/images/' + image_id).status_code == 404
    assert 'Injected fault in %s' % method in _fault(server_id)
    if method == 'delete_snapshot':
        # The host cannot drop its copy, so the rollback cannot finish:
        # the server goes to error instead of hiding the leftover.
        h.wait_stable(api_system, server_id, 'ERROR')
        return
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert h.host_leftovers(api_system, server_id, ['snapshots']) == []


def test_delete_during_snapshot_upload_leaves_no_image(api_system):
    server_id = h.boot(api_system)
    h.inject(api_system, {'upload_snapshot': {'delay_s': 2.0}})
    image_id = h.act(api_system, server_id,
                     {'createImage': {'name': 'doomed'}}).json()['image_id']
    wait_for(lambda: h.calls(api_system, 'upload_snapshot') >= 1,
             what='the upload to start')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    assert _finished_action(server_id, 'createImage')['result'] == \
        states.RESULT_ERROR
    wait_for(lambda: h.api(api_system, 'GET', '/image/v2/images/' +
                           image_id).status_code == 404,
             timeout=30, what='the image to go')
    wait_for(lambda: h.host_leftovers(api_system, server_id) == [],
             timeout=30, what='the host to be clean')


# -- soft delete / restore ------------------------------------------------

def _without_console(guest):
    return {k: v for k, v in guest.items() if k != 'console'}


def test_soft_delete_then_restore(api_system, conf):
    conf.set_override('reclaim_instance_interval_s', 3600)
    server_id = h.boot(api_system)
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    after = h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    assert after['OS-EXT-STS:vm_state'] == states.SOFT_DELETED
    host, guest = h.guest(api_system, server_id)
    assert guest['power_state'] == states.SHUTDOWN
    listed = h.api(api_system, 'GET', '/v2.1/servers').json()['servers']
    assert server_id in {s['id'] for s in listed}
    h.act(api_system, server_id, {'restore': None})
    h.wait_stable(api_system, server_id, 'ACTIVE')
    # The same guest, running again (its console printed the power on).
    restored_host, restored = h.guest(api_system, server_id)
    assert restored_host == host
    assert restored['console'][:len(guest['console'])] == guest['console']
    assert _without_console(restored) == _without_console(
        dict(guest, power_state=states.RUNNING))
    names = [a['action'] for a in actions.list_for_instance(server_id)]
    assert names[:2] == ['restore', 'softDelete']
    # Deleting a soft-deleted server is final.
    h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    assert h.api(api_system, 'DELETE',
                 '/v2.1/servers/' + server_id).status_code == 204
    wait_for(lambda: h.api(api_system, 'GET', '/v2.1/servers/' + server_id)
             .status_code == 404, timeout=30, what='the final delete')
    assert h.host_leftovers(api_system, server_id) == []


def test_soft_delete_failure_leaves_server_running(api_system, conf):
    conf.set_override('reclaim_instance_interval_s', 3600)
    server_id = h.boot(api_system)
    h.inject(api_system, {'power_off': {'fault': 'raise', 'when': 'after'}})
    h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    assert _finished_action(server_id, 'softDelete')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert 'Injected fault in power_off' in _fault(server_id)
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.RUNNING


def test_restore_failure_keeps_it_soft_deleted(api_system, conf):
    conf.set_override('reclaim_instance_interval_s', 3600)
    server_id = h.boot(api_system)
    h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    h.inject(api_system, {'power_on': 'raise'})
    h.act(api_system, server_id, {'restore': None})
    assert _finished_action(server_id, 'restore')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    assert 'Injected fault in power_on' in _fault(server_id)
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.SHUTDOWN


def test_soft_deleted_server_keeps_its_resources_force_delete_frees(
        api_system, conf):
    conf.set_override('reclaim_instance_interval_s', 3600)
    server_id = h.boot(api_system)
    h.api(api_system, 'DELETE', '/v2.1/servers/' + server_id)
    h.wait_stable(api_system, server_id, 'SOFT_DELETED')
    assert instances.get(server_id)['host']
    h.act(api_system, server_id, {'forceDelete': None})
    wait_for(lambda: h.host_leftovers(api_system, server_id) == [],
             timeout=30, what='the host to be clean')


# -- preemption of a slow start -------------------------------------------

def test_force_delete_during_slow_start_never_starts_the_guest(api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'os-stop': None})
    h.wait_stable(api_system, server_id, 'SHUTOFF')
    # The host takes 2 s before powering on: the force delete lands
    # meanwhile, destroys the guest, and the power-on finds nothing.
    h.inject(api_system, {'power_on': {'delay_s': 2.0}})
    h.act(api_system, server_id, {'os-start': None})
    wait_for(lambda: h.calls(api_system, 'power_on') >= 1,
             what='power_on to start')
    h.act(api_system, server_id, {'forceDelete': None})
    assert h.api(api_system, 'GET',
                 '/v2.1/servers/' + server_id).status_code == 404
    start = _finished_action(server_id, 'start')
    assert start['result'] == states.RESULT_ERROR
    wait_for(lambda: h.host_leftovers(api_system, server_id) == [],
             timeout=30, what='the host to be clean')
    # Nothing brings it back: no guest on any host, ever after.
    h.inject(api_system, {})
    assert h.guest(api_system, server_id) == (None, None)


# -- periodic reclaim -----------------------------------------------------

def test_soft_deleted_server_is_reclaimed_after_the_interval(conf, tmp_path):
    conf.set_override('reclaim_instance_interval_s', 1.0)
    conf.set_override('reclaim_check_interval_s', 0.3, group='conductor')
    system = systems.start_all_in_one(conf, tmp_path, serve_api=True)
    try:
        server_id = h.boot(system)
        h.api(system, 'DELETE', '/v2.1/servers/' + server_id)
        wait_for(lambda: h.api(system, 'GET', '/v2.1/servers/' + server_id)
                 .status_code == 404, timeout=30, what='the reclaim')
        assert h.host_leftovers(system, server_id) == []
        names = [a['action'] for a in actions.list_for_instance(server_id)]
        assert names[:2] == ['delete', 'softDelete']
        reclaim = actions.list_for_instance(server_id)[0]
        assert reclaim['user_id'] == 'orchestrator'
        assert _finished_action(server_id, 'delete')['result'] == \
            states.RESULT_SUCCESS
    finally:
        system.stop()


# -- shelve ---------------------------------------------------------------

@pytest.fixture
def periodic_offload_conf(conf):
    """A shelve leaves the server shelved for 1 s; the offload periodic
    checks often (its interval is read at start)."""
    conf.set_override('shelved_offload_time', 1)
    conf.set_override('shelved_poll_interval_s', 0.3, group='conductor')
    return conf


def test_a_shelved_server_is_offloaded_by_the_periodic(
        periodic_offload_conf, api_system):
    server_id = h.boot(api_system)
    h.act(api_system, server_id, {'shelve': None})
    h.wait_stable(api_system, server_id, 'SHELVED')
    wait_for(lambda: h.server(api_system, server_id)['status']
             == 'SHELVED_OFFLOADED', timeout=30, what='the offload')
    after = h.wait_stable(api_system, server_id, 'SHELVED_OFFLOADED')
    assert after['OS-EXT-SRV-ATTR:host'] is None
    assert h.host_leftovers(api_system, server_id) == []
    offload = _finished_action(server_id, 'shelveOffload')
    assert (offload['result'], offload['user_id']) == (
        states.RESULT_SUCCESS, 'orchestrator')


def test_shelve_failure_leaves_server_running_without_image(api_system):
    server_id = h.boot(api_system, name='failing-shelf')
    h.inject(api_system, {'upload_snapshot': 'raise'})
    h.act(api_system, server_id, {'shelve': None})
    assert _finished_action(server_id, 'shelve')['result'] == \
        states.RESULT_ERROR
    h.wait_stable(api_system, server_id, 'ACTIVE')
    assert 'Injected fault in upload_snapshot' in _fault(server_id)
    assert h.guest(api_system, server_id)[1]['power_state'] == \
        states.RUNNING
    images = h.api(api_system, 'GET', '/image/v2/images').json()['images']
    assert 'failing-shelf-shelved' not in {i['name'] for i in images}
    assert h.host_leftovers(api_system, server_id, ('snapshots',)) == []
