"""os-keypairs: list, show, create (imported or generated, ssh or x509),
delete, per user, in Nova's shapes (tempest.lib's schemas), and the
key_name and network checks of a server create."""

import base64
import hashlib

import pytest

from orchestrator.api import server_create
from tests.unit.api import oracle
from tests.unit.api.conftest import CIRROS
from tests.unit.api.conftest import call

SSH_KEY = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID2R7XEFYF0r385NNEXVDLGrq'
           'iSGFt9RZdTAmcPiu0NA me@host')
SSH_FINGERPRINT = ':'.join('%02x' % b for b in hashlib.md5(
    base64.b64decode(SSH_KEY.split()[1])).digest())


def _create(app, name, version=None, **extra):
    return call(app, 'POST', '/v2.1/os-keypairs',
                {'keypair': dict(name=name, **extra)}, version=version)


def test_import_list_show_delete_at_21(app):
    resp = _create(app, 'k1', public_key=SSH_KEY)
    body = oracle.check(resp, 'v2_1', 'keypairs', 'create_keypair')
    assert body['keypair']['fingerprint'] == SSH_FINGERPRINT
    assert 'private_key' not in body['keypair']
    assert 'type' not in body['keypair']

    body = oracle.check(call(app, 'GET', '/v2.1/os-keypairs'), 'v2_1',
                        'keypairs', 'list_keypairs')
    assert [k['keypair']['name'] for k in body['keypairs']] == ['k1']

    body = oracle.check(call(app, 'GET', '/v2.1/os-keypairs/k1'), 'v2_1',
                        'keypairs', 'get_keypair')
    assert body['keypair']['public_key'] == SSH_KEY
    assert body['keypair']['deleted'] is False

    oracle.check(call(app, 'DELETE', '/v2.1/os-keypairs/k1'), 'v2_1',
                 'keypairs', 'delete_keypair')
    assert call(app, 'GET', '/v2.1/os-keypairs/k1').status_int == 404
    assert call(app, 'DELETE', '/v2.1/os-keypairs/k1').status_int == 404


@pytest.mark.parametrize('key_type,marker', [
    ('ssh', 'ssh-rsa '), ('x509', '-----BEGIN CERTIFICATE-----')])
def test_generated_keypair_at_22(app, key_type, marker):
    resp = _create(app, 'gen', version='2.2', type=key_type)
    body = oracle.check(resp, 'v2_2', 'keypairs', 'create_keypair')
    keypair = body['keypair']
    assert keypair['type'] == key_type
    assert keypair['public_key'].startswith(marker)
    assert 'PRIVATE KEY-----' in keypair['private_key']
    shown = oracle.check(call(app, 'GET', '/v2.1/os-keypairs/gen',
                              version='2.2'),
                         'v2_2', 'keypairs', 'get_keypair')['keypair']
    assert 'private_key' not in shown
    assert shown['fingerprint'] == keypair['fingerprint']
    oracle.check(call(app, 'DELETE', '/v2.1/os-keypairs/gen',
                      version='2.2'), 'v2_2', 'keypairs', 'delete_keypair')


@pytest.mark.parametrize('body,message', [
    ({'keypair': {'name': 'a/b'}}, 'unsafe characters'),
    ({'keypair': {'name': ''}}, 'field/attribute name'),
    ({'keypair': {'name': 'k', 'public_key': 'ssh-rsa notbase64'}},
     'failed to generate fingerprint'),
    ({'keypair': {'name': 'k', 'public_key': SSH_KEY, 'type': 'ssh'}},
     'Additional properties'),
    ({'keypair': {'name': 'k', 'user_id': 'u'}}, 'Additional properties'),
])
def test_bad_create_is_400(app, body, message):
    resp = call(app, 'POST', '/v2.1/os-keypairs', body)
    assert resp.status_int == 400, resp.text
    assert message in resp.json['badRequest']['message']


def test_duplicate_is_409_and_quota_is_403(app, conf):
    assert _create(app, 'dup', public_key=SSH_KEY).status_int == 200
    resp = _create(app, 'dup', public_key=SSH_KEY)
    assert resp.status_int == 409
    assert resp.json['conflictingRequest']['message'] == \
        "Key pair 'dup' already exists."
    conf.set_override('key_pairs', 1, group='quota')
    resp = _create(app, 'second', public_key=SSH_KEY)
    assert resp.status_int == 403
    assert 'too many key pairs' in resp.json['forbidden']['message']


def test_keypairs_are_per_user(app, member_app, other_member_app):
    assert _create(member_app, 'mine', public_key=SSH_KEY).status_int == 200
    assert call(other_member_app, 'GET',
                '/v2.1/os-keypairs/mine').status_int == 404
    assert call(other_member_app, 'GET',
                '/v2.1/os-keypairs').json == {'keypairs': []}
    # The same name for another user is no conflict.
    assert _create(other_member_app, 'mine',
                   public_key=SSH_KEY).status_int == 200
    # user_id (2.10): an administrator sees and removes another's.
    resp = call(app, 'GET', '/v2.1/os-keypairs?user_id=member',
                version='2.10')
    assert [k['keypair']['name'] for k in resp.json['keypairs']] == ['mine']
    resp = call(member_app, 'GET', '/v2.1/os-keypairs?user_id=beta-member',
                version='2.10')
    assert resp.status_int == 403
    resp = _create(member_app, 'theirs', version='2.10',
                   public_key=SSH_KEY, user_id='beta-member')
    assert resp.status_int == 403
    resp = _create(app, 'given', version='2.10', public_key=SSH_KEY,
                   user_id='member')
    assert resp.status_int == 201
    assert resp.json['keypair']['user_id'] == 'member'
    assert call(app, 'DELETE', '/v2.1/os-keypairs/mine?user_id=member',
                version='2.10').status_int == 204
    names = [k['keypair']['name'] for k in call(
        member_app, 'GET', '/v2.1/os-keypairs').json['keypairs']]
    assert names == ['given']


def test_paging_at_235(app):
    for name in ('c', 'a', 'b'):
        assert _create(app, name, public_key=SSH_KEY).status_int == 200
    resp = call(app, 'GET', '/v2.1/os-keypairs?limit=2', version='2.35')
    body = resp.json
    # tempest.lib has no 2.35 schema: the items are 2.2's.
    oracle.validate({'keypairs': body['keypairs']}, 'v2_2', 'keypairs',
                    'list_keypairs')
    assert [k['keypair']['name'] for k in body['keypairs']] == ['a', 'b']
    assert 'marker=b' in body['keypairs_links'][0]['href']
    resp = call(app, 'GET', '/v2.1/os-keypairs?marker=b', version='2.35')
    assert [k['keypair']['name'] for k in resp.json['keypairs']] == ['c']
    resp = call(app, 'GET', '/v2.1/os-keypairs?marker=zz', version='2.35')
    assert resp.status_int == 400


def _server(**extra):
    return {'server': dict(name='vm', imageRef=CIRROS, flavorRef='1',
                           **extra)}


def test_server_create_checks_key_name_and_networks(member_app, conductor):
    resp = call(member_app, 'POST', '/v2.1/servers',
                _server(key_name='nokey'))
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == \
        'Invalid key_name provided.'
    assert _create(member_app, 'k', public_key=SSH_KEY).status_int == 200
    assert call(member_app, 'POST', '/v2.1/servers',
                _server(key_name='k')).status_int == 202

    missing = '6c8f7a35-0b8e-4d5c-9d52-1f5f1a0b2c3d'
    resp = call(member_app, 'POST', '/v2.1/servers',
                _server(networks=[{'uuid': missing}]))
    assert resp.status_int == 400
    assert resp.json['badRequest']['message'] == \
        'Network %s could not be found.' % missing
    resp = call(member_app, 'POST', '/v2.1/servers',
                _server(networks=[{'port': missing}]))
    assert resp.status_int == 400
    [network] = server_create.NETWORKS
    assert call(member_app, 'POST', '/v2.1/servers',
                _server(networks=[{'uuid': network}])).status_int == 202
