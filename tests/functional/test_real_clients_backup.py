"""openstackclient, unchanged, on createBackup (with its rotation),
changePassword and trigger_crash_dump against the all-in-one over HTTP:
``server backup create``, ``server set --password``, ``server dump
create``.
"""

import hashlib
import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import _create
from tests.functional.test_real_clients import openstack  # noqa: F401
from tests.waiting import wait_for


def _backups(api_system, server_id):
    """{image id: status} of the server's backups."""
    images = api_helpers.api(api_system, 'GET', '/image/v2/images').json()[
        'images']
    return {i['id']: i['status'] for i in images
            if i.get('image_type') == 'backup'
            and i.get('instance_uuid') == server_id}


def test_openstackclient_backup_password_and_crash_dump(
        openstack, api_system):  # noqa: F811
    server_id = _create(openstack, api_system, 'm1.tiny', 'guarded')

    made = []
    for name in ('bk-1', 'bk-2'):
        image = json.loads(openstack(
            'server', 'backup', 'create', '--name', name, '--type', 'daily',
            '--rotate', '1', '-f', 'json', 'guarded'))
        assert image['name'] == name
        made.append(image['id'])
        api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    # The second backup's rotation (keep 1) deleted the first.
    wait_for(lambda: _backups(api_system, server_id) == {
        made[1]: 'active'}, timeout=30, what='rotation to keep bk-2')

    openstack('server', 'set', '--password', 'Cl1ent-pass', 'guarded')
    api_helpers.wait_stable(api_system, server_id, 'ACTIVE')
    _host, guest = api_helpers.guest(api_system, server_id)
    assert guest['admin_password_sha256'] == hashlib.sha256(
        b'Cl1ent-pass').hexdigest()

    openstack('--os-compute-api-version', '2.17', 'server', 'dump',
              'create', 'guarded')
    wait_for(lambda: api_helpers.guest(api_system, server_id)[1].get(
        'crash_dumps') == 1, timeout=30, what='the NMI')
    actions = json.loads(openstack(
        'server', 'event', 'list', '-f', 'json', 'guarded'))
    assert sorted(a['Action'] for a in actions) == sorted([
        'create', 'createBackup', 'createBackup', 'changePassword',
        'trigger_crash_dump'])
