"""Secrets a flow carries to a host (the rescue password), sealed with a
key only the services hold.

A flow's store is persisted (the logbook, the job's details, the
accepted request), so a password in it would be kept for ever. The API
seals it (:func:`seal`: Fernet, AES-128-CBC with an HMAC-SHA256, a
random IV and a timestamp, so two seals of one password differ); the
store keeps only the sealed text; the step that calls the host opens it
(:func:`unseal`) just before the call. The plain text lives in memory
and on the RPC message to the host, nowhere else, and a flow resumed
after a crash still has what it needs.

The key file is ``[DEFAULT] secrets_key_file``: one Fernet key per line
(``#`` comments allowed), the first seals, every one opens (to rotate:
put a new key first, keep the old one until the flows sealed with it
ended). The API and the conductors need the same file; the all-in-one
creates it in its state dir, ``orchestrator-manage secrets create-key``
creates it for the others (mode 0600). A service that needs it refuses
to start without it (:func:`check`).
"""

import logging
import os
import stat
import threading

from cryptography import fernet

from orchestrator import exception
from orchestrator import file_modes

LOG = logging.getLogger(__name__)


class SecretsKeyError(exception.OrchestratorError):
    """The key file is missing, unreadable or holds no valid key."""

    msg_fmt = ('Secrets key file %(path)s ([DEFAULT] secrets_key_file) '
               '%(reason)s')


class SecretUnreadable(exception.OrchestratorError):
    """A sealed secret that no key of the key file opens."""

    msg_fmt = ('A sealed secret cannot be opened with the key(s) of '
               '%(path)s: it was sealed with another key (the API and '
               'the conductors must share one key file) or it is damaged.')


_CREATE_HINT = ('; create it with "orchestrator-manage secrets create-key" '
                'and give every API and conductor the same file')

_LOCK = threading.Lock()
#: path -> (the file's stat signature, MultiFernet)
_BOXES = {}


def create_key_file(path):
    """Create ``path`` holding a new key, mode 0600 (its directory 0700
    if missing). An existing file is left as it is (two processes racing
    create one file). Returns True if this call created it."""
    if os.path.exists(path):
        return False
    tmp_path = '%s.tmp.%d.%d' % (path, os.getpid(), threading.get_ident())
    try:
        file_modes.make_dirs(os.path.dirname(os.path.abspath(path)))
        with file_modes.open_private(tmp_path, 'wb') as f:
            f.write(b'# orchestrator secrets key: keep it private\n')
            f.write(fernet.Fernet.generate_key() + b'\n')
        try:
            os.link(tmp_path, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp_path)
    except OSError as e:
        raise SecretsKeyError(path=path, reason='cannot be created (%s)'
                              % (e.strerror or e)) from None
    LOG.info('Created the secrets key file %s', path)
    return True


def _signature(info):
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _read_keys(path):
    try:
        with open(path, 'rb') as f:
            info = os.fstat(f.fileno())
            data = f.read()
    except FileNotFoundError:
        raise SecretsKeyError(path=path,
                              reason='is missing' + _CREATE_HINT) from None
    except OSError as e:
        raise SecretsKeyError(path=path, reason='cannot be read (%s)'
                              % (e.strerror or e)) from None
    lines = [line.strip() for line in data.splitlines()]
    keys = [line for line in lines if line and not line.startswith(b'#')]
    if not keys:
        raise SecretsKeyError(path=path, reason='holds no key' + _CREATE_HINT)
    boxes = []
    for number, key in enumerate(keys, start=1):
        try:
            boxes.append(fernet.Fernet(key))
        except ValueError:
            raise SecretsKeyError(
                path=path, reason='has a key (number %d) that is not a '
                                  'Fernet key (32 bytes, url-safe base64)'
                                  % number) from None
    if info.st_mode & 0o077:
        LOG.warning('Secrets key file %s may be read by others (mode %o); '
                    'make it 0600', path, stat.S_IMODE(info.st_mode))
    return _signature(info), fernet.MultiFernet(boxes)


def _box(path):
    if not path:
        raise SecretsKeyError(path='(none)', reason='is not set')
    try:
        current = _signature(os.stat(path))
    except OSError:
        current = None
    with _LOCK:
        cached = _BOXES.get(path)
        if cached is not None and cached[0] == current:
            return cached[1]
    signature, box = _read_keys(path)
    with _LOCK:
        _BOXES[path] = (signature, box)
    return box


def _key_path(conf):
    if conf is None:
        from orchestrator import conf as orch_conf
        conf = orch_conf.CONF
    return conf.secrets_key_file


def check(conf=None):
    """Raise :class:`SecretsKeyError` unless the key file can be used."""
    _box(_key_path(conf))


def seal(secret, conf=None):
    """The sealed form (ASCII text) of the string ``secret``."""
    return _box(_key_path(conf)).encrypt(secret.encode('utf-8')).decode(
        'ascii')


def seal_for_request(secret, conf=None):
    """:func:`seal` in the API: an unusable key file is logged (its path
    and why) and answered 503 with neither."""
    try:
        return seal(secret, conf)
    except SecretsKeyError as e:
        LOG.error('Cannot seal a secret: %s', e)
        raise exception.ServiceUnavailable(
            reason='the API cannot seal the password (its secrets key file '
                   'is unusable; the API log says why).') from None


def unseal(sealed, conf=None):
    """The secret :func:`seal` sealed into ``sealed``.

    :raises SecretUnreadable: no key of the file opens it.
    :raises SecretsKeyError: the key file cannot be used.
    """
    path = _key_path(conf)
    box = _box(path)
    try:
        return box.decrypt(str(sealed).encode('ascii')).decode('utf-8')
    except (fernet.InvalidToken, UnicodeError):
        raise SecretUnreadable(path=path) from None
