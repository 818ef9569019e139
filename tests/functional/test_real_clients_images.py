"""openstackclient, unchanged, on the image service against the
all-in-one over HTTP: image create --file (POST, then the data PUT),
show (size, checksum), set --property (a JSON patch), save (the data
back), a server booted from the uploaded image, image delete."""

import hashlib
import json

from tests.functional import api_helpers
from tests.functional.test_real_clients import openstack  # noqa: F401


def test_openstackclient_image_upload_and_boot(openstack,  # noqa: F811
                                               api_system, tmp_path):
    data = bytes(range(256)) * 64
    source = tmp_path / 'disk.raw'
    source.write_bytes(data)
    image = json.loads(openstack(
        'image', 'create', '--file', str(source), '--disk-format', 'raw',
        '--container-format', 'bare', '--property', 'os_distro=cirros',
        '-f', 'json', 'cli-image'))
    shown = json.loads(openstack('image', 'show', '-f', 'json',
                                 image['id']))
    assert shown['status'] == 'active'
    assert shown['size'] == len(data)
    assert shown['checksum'] == hashlib.md5(data).hexdigest()
    openstack('image', 'set', '--property', 'hw_disk_bus=virtio',
              '--min-ram', '64', image['id'])
    shown = json.loads(openstack('image', 'show', '-f', 'json',
                                 image['id']))
    assert shown['min_ram'] == 64
    assert shown['properties']['hw_disk_bus'] == 'virtio'
    assert shown['properties']['os_distro'] == 'cirros'
    saved = tmp_path / 'saved.raw'
    openstack('image', 'save', '--file', str(saved), image['id'])
    assert saved.read_bytes() == data

    server = json.loads(openstack(
        'server', 'create', '--flavor', 'm1.tiny', '--image', image['id'],
        '-f', 'json', 'from-upload'))
    api_helpers.wait_stable(api_system, server['id'], 'ACTIVE')

    openstack('image', 'delete', image['id'])
    names = [i['Name'] for i in json.loads(openstack('image', 'list',
                                                     '-f', 'json'))]
    assert 'cli-image' not in names
