"""``/v2.1/os-keypairs``: a user's keypairs, as Nova's.

* ``GET /os-keypairs``: ``{"keypairs": [{"keypair": {"name",
  "public_key", "fingerprint", "type" (2.2+)}}]}``, by name; 2.35 adds
  ``limit``/``marker`` paging and ``keypairs_links``;
* ``GET /os-keypairs/{name}``: the keypair with ``user_id``, ``id``,
  ``created_at``, ``updated_at``, ``deleted``, ``deleted_at``;
* ``POST /os-keypairs``: ``{"keypair": {"name", "public_key"?, "type"?
  (2.2+, ssh or x509), "user_id"? (2.10+)}}``; without ``public_key`` a
  key is generated (RSA 2048; for x509 a self-signed certificate) and
  its ``private_key`` answered once, never stored. 200 before 2.2, 201
  from it; 409 on a name the user has, 403 past the ``key_pairs`` quota
  (per user, as Nova's), 400 on an unsafe name or a key that cannot be
  read;
* ``DELETE /os-keypairs/{name}``: 202 before 2.2, 204 from it.

From 2.10 ``user_id`` (body of a create, query of the others) names
another user's keypairs: administrators only (policy ``other_user``).
"""

import base64
import binascii
import datetime
import hashlib
import string

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import oid

from orchestrator import exception
from orchestrator import quota
from orchestrator.api import links
from orchestrator.api import query
from orchestrator.api import request as api_request
from orchestrator.api import validation
from orchestrator.api.schemas import keypairs as schemas
from orchestrator.db import keypairs as db_keypairs
from orchestrator.policies import keypairs as rules

#: Nova's safe characters of a keypair name (before 2.92).
SAFE_CHARS = frozenset('_- ' + string.digits + string.ascii_letters)


class InvalidKeypair(exception.Invalid):
    msg_fmt = 'Keypair data is invalid: %(reason)s'


def _colons(digest):
    return ':'.join('%02x' % b for b in digest)


def ssh_fingerprint(public_key):
    """Nova's fingerprint of an OpenSSH public key (MD5 of the key's
    blob, colon-separated); 400 if it is not one."""
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1], validate=True)
    except (ValueError, IndexError, binascii.Error, TypeError,
            UnicodeEncodeError, NotImplementedError):
        raise InvalidKeypair(reason='failed to generate fingerprint') \
            from None
    return _colons(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(certificate):
    """The SHA-1 fingerprint of a PEM certificate; 400 if it is not
    one."""
    try:
        cert = x509.load_pem_x509_certificate(certificate.encode())
    except (ValueError, TypeError, UnicodeEncodeError):
        raise InvalidKeypair(reason='failed to generate X509 fingerprint') \
            from None
    return _colons(cert.fingerprint(hashes.SHA1()))  # noqa: S303 - Nova's


def _generate(key_type, user_id):
    """(private key PEM, public key, fingerprint) of a new keypair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()).decode()
    if key_type == 'x509':
        name = x509.Name([x509.NameAttribute(oid.NameOID.COMMON_NAME,
                                             user_id[:64])])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name)
                .issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now)
                .not_valid_after(now + datetime.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        public = cert.public_bytes(serialization.Encoding.PEM).decode()
        return private, public, x509_fingerprint(public)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH,
        serialization.PublicFormat.OpenSSH).decode()
    return private, public, ssh_fingerprint(public)


def _check_name(name):
    if any(c not in SAFE_CHARS for c in name):
        raise InvalidKeypair(reason='Keypair name contains unsafe '
                                    'characters')
    if not 1 <= len(name) <= 255:
        raise InvalidKeypair(reason='Keypair name must be string and '
                                    'between 1 and 255 characters long')


def _user(req, user_id):
    """The user whose keypairs the request names: ``user_id`` (2.10+;
    another user's for administrators only) or the caller."""
    own = req.context.user_id
    if user_id is None or not req.at_least(2, 10) or user_id == own:
        return own
    req.authorize(rules.OTHER_USER)
    return user_id


def _time(value):
    return None if value is None else value.isoformat()


def _view(req, keypair, **extra):
    body = {'name': keypair['name'], 'public_key': keypair['public_key'],
            'fingerprint': keypair['fingerprint']}
    if req.at_least(2, 2):
        body['type'] = keypair['type']
    body.update(extra)
    return body


def index(req):
    """GET /os-keypairs (200)."""
    req.authorize(rules.INDEX)
    user_id = _user(req, query.one(req, 'user_id'))
    limit = marker = None
    if req.at_least(2, 35):
        limit = query.limit(req)
        marker = query.one(req, 'marker')
    try:
        keypairs = db_keypairs.list_for_user(user_id, limit=limit,
                                             marker=marker)
    except db_keypairs.KeypairNotFound:
        raise exception.Invalid('marker [%s] not found' % marker) from None
    body = {'keypairs': [{'keypair': _view(req, k)} for k in keypairs]}
    if limit is not None:
        next_links = query.next_link(
            req, links.compute_url(req, 'os-keypairs'), keypairs, limit,
            key='name')
        if next_links:
            body['keypairs_links'] = next_links
    return api_request.json_response(body)


def show(req, keypair_name):
    """GET /os-keypairs/{name} (200, 404)."""
    req.authorize(rules.SHOW)
    user_id = _user(req, query.one(req, 'user_id'))
    keypair = db_keypairs.get(user_id, keypair_name)
    return api_request.json_response({'keypair': _view(
        req, keypair, user_id=keypair['user_id'], id=keypair['id'],
        created_at=_time(keypair['created_at']),
        updated_at=_time(keypair['updated_at']), deleted=False,
        deleted_at=None)})


def create(req):
    """POST /os-keypairs (200 before 2.2, then 201)."""
    req.authorize(rules.CREATE)
    body = req.json_body()
    validation.validate(body, schemas.create(req.api_version))
    asked = body['keypair']
    user_id = _user(req, asked.get('user_id'))
    name = asked['name']
    _check_name(name)
    key_type = asked.get('type', 'ssh')
    private_key = None
    if 'public_key' in asked:
        public_key = asked['public_key']
        fingerprint = (x509_fingerprint(public_key) if key_type == 'x509'
                       else ssh_fingerprint(public_key))
    else:
        private_key, public_key, fingerprint = _generate(key_type, user_id)
    limit = quota.for_project(
        req.conf, req.context.project_id).limits()['key_pairs']
    keypair = db_keypairs.create(user_id, name, public_key, fingerprint,
                                 key_type, limit)
    extra = {'user_id': user_id}
    if private_key is not None:
        extra['private_key'] = private_key
    return api_request.json_response(
        {'keypair': _view(req, keypair, **extra)},
        status=201 if req.at_least(2, 2) else 200)


def delete(req, keypair_name):
    """DELETE /os-keypairs/{name} (202 before 2.2, then 204; 404)."""
    req.authorize(rules.DELETE)
    user_id = _user(req, query.one(req, 'user_id'))
    db_keypairs.delete(user_id, keypair_name)
    return api_request.empty_response(204 if req.at_least(2, 2) else 202)


def register(router):
    router.add('GET', '/v2.1/os-keypairs', index)
    router.add('POST', '/v2.1/os-keypairs', create)
    router.add('GET', '/v2.1/os-keypairs/{keypair_name}', show)
    router.add('DELETE', '/v2.1/os-keypairs/{keypair_name}', delete)
