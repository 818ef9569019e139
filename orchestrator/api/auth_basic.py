"""``[api] auth_strategy = http_basic``: users, projects and roles from a
file, passwords checked with bcrypt.

The file (``[api] http_basic_auth_user_file``) has one user a line::

    # NAME:BCRYPT_HASH:PROJECT_ID:ROLE[,ROLE...]
    alice:$2b$12$...53 characters...:3f1c...:member,reader
    ops:$2b$12$...:admin-project:admin

* NAME and PROJECT_ID have no colon and no white space; a name appears
  once;
* BCRYPT_HASH is a bcrypt hash (``$2a$``, ``$2b$`` or ``$2y$``, 60
  characters), as ``htpasswd -B`` or ``orchestrator-manage users add``
  write it;
* ROLES is a comma-separated list of role names (lower-cased; ``admin``
  makes an administrator, as a Keystone role would);
* blank lines and lines starting with ``#`` are ignored.

``orchestrator-manage users add`` (:func:`add_user`) appends a line, so
nobody writes hashes by hand; the file is created owner-only (0600).

The middleware reads the file at start (a malformed file stops the
daemon with one line naming the file and the line) and again whenever
it changes (a malformed new version is logged and the previous users
kept). Each request's ``Authorization: Basic`` credentials are checked
with bcrypt; a successful check is remembered as a keyed digest (HMAC
with a key of this process) so later requests of the same user and
password cost microseconds instead of bcrypt's 0.2 s. Unknown user,
wrong password, no or malformed header: 401 with ``WWW-Authenticate:
Basic realm="..."``, except under the console's data API
(``/console/api/``), whose 401 challenges with the scheme
``OrchestratorConsole``: a browser answers a Basic challenge to a page's
script with its own sign-in dialog over the console, and the console
has its own sign-in page. Identity headers a client sends are removed
first.
"""

import base64
import binascii
import dataclasses
import fcntl
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import threading
import time

import bcrypt
import webob.dec

from orchestrator.api import auth
from orchestrator.api import request as api_request

LOG = logging.getLogger(__name__)

REALM = 'orchestrator'
#: bcrypt's cost of new hashes (2**12 rounds: about 0.2 s a check).
DEFAULT_ROUNDS = 12
#: bcrypt looks at the first 72 bytes only; longer passwords are refused.
MAX_PASSWORD_BYTES = 72
LINE_FORMAT = 'NAME:BCRYPT_HASH:PROJECT_ID:ROLE[,ROLE...]'
#: Seconds after a change during which the file's content is compared
#: on every request (see BasicAuthMiddleware._current_users).
RACY_S = 2.0

_NAME = re.compile(r'[^\s:]+\Z')
_ROLE = re.compile(r'[a-z0-9_.-]+\Z')
_HASH = re.compile(r'\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}\Z')
#: Checked when the user is unknown, so that an unknown name costs what
#: a wrong password does (the hash of a random string, cost 12).
_UNKNOWN_USER_HASH = (b'$2b$12$DOZlIr8BNt3uf4/s4P.APO'
                      b'DPMtwy/7DwEMyk4RiMcIKGdJiRr7xBu')


class UserFileError(auth.AuthConfigError):
    """The user file is missing, unreadable or malformed."""


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    password_hash: bytes
    project_id: str
    roles: tuple


def parse_line(line):
    """The :class:`User` of one line of the file.

    :raises ValueError: the line is malformed (the message says how).
    """
    fields = line.split(':')
    if len(fields) != 4:
        raise ValueError('expected %s (4 fields separated by colons), got '
                         '%d field(s)' % (LINE_FORMAT, len(fields)))
    name, password_hash, project_id, roles = fields
    if not _NAME.match(name):
        raise ValueError('the user name is empty or holds white space')
    if not _HASH.match(password_hash):
        raise ValueError('the password of %s is not a bcrypt hash '
                         '($2b$NN$ and 53 characters)' % name)
    if not _NAME.match(project_id):
        raise ValueError('the project of %s is empty or holds white space'
                         % name)
    role_list = [r.strip().lower() for r in roles.split(',')]
    if not all(_ROLE.match(r) for r in role_list):
        raise ValueError('the roles of %s must be a comma-separated list of '
                         'names (letters, digits, _ . -)' % name)
    return User(name, password_hash.encode('ascii'), project_id,
                tuple(role_list))


def parse_users(text):
    """{name: User} of a whole file's text.

    :raises ValueError: with the line number, on the first bad line.
    """
    users = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        try:
            user = parse_line(line)
        except ValueError as e:
            raise ValueError('line %d: %s' % (number, e)) from None
        if user.name in users:
            raise ValueError('line %d: user %s appears twice'
                             % (number, user.name))
        users[user.name] = user
    return users


def _signature(path):
    """What changes when the file is replaced or written (or None)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _recent(signature):
    """True when the file changed so recently that it may change again
    within its timestamp's granularity (a few ms) unseen by its stat."""
    return signature is not None and \
        time.time_ns() - signature[2] < RACY_S * 1e9


def _read(path):
    """(text, mode) of the file.

    :raises UserFileError: it cannot be read.
    """
    try:
        with open(path, encoding='utf-8') as f:
            return f.read(), os.fstat(f.fileno()).st_mode
    except (OSError, UnicodeDecodeError) as e:
        raise UserFileError('http_basic user file %s cannot be read: %s'
                            % (path, e)) from None


def _users_of(path, text, mode):
    try:
        users = parse_users(text)
    except ValueError as e:
        raise UserFileError('http_basic user file %s: %s' % (path, e)) \
            from None
    if stat.S_IMODE(mode) & 0o077:
        LOG.warning('http_basic user file %s is readable by others (mode '
                    '%o): make it 0600', path, stat.S_IMODE(mode))
    if not users:
        LOG.warning('http_basic user file %s has no user: every request '
                    'is refused', path)
    return users


def load_users(path):
    """{name: User} of the file at ``path``.

    :raises UserFileError: one line naming the file and what is wrong.
    """
    return _users_of(path, *_read(path))


def hash_password(password, rounds=DEFAULT_ROUNDS):
    """A bcrypt hash (str) of ``password``.

    :raises ValueError: the password is empty or longer than 72 bytes.
    """
    raw = password.encode('utf-8')
    if not raw:
        raise ValueError('the password is empty')
    if len(raw) > MAX_PASSWORD_BYTES:
        raise ValueError('the password is longer than %d bytes (bcrypt '
                         'ignores the rest)' % MAX_PASSWORD_BYTES)
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds)).decode('ascii')


def user_line(name, password, project_id, roles, rounds=DEFAULT_ROUNDS):
    """The file's line (without newline) of a new user.

    :raises ValueError: a field the format cannot hold.
    """
    line = '%s:%s:%s:%s' % (name, hash_password(password, rounds),
                            project_id, ','.join(roles))
    parse_line(line)
    return line


def add_user(path, name, password, project_id, roles,
             rounds=DEFAULT_ROUNDS):
    """Append a user to the file at ``path``, creating it owner-only
    (0600); the file is made 0600 if it was not.

    :raises ValueError: the user exists already, a field is invalid, or
        the file is malformed.
    """
    line = user_line(name, password, project_id, roles, rounds)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, 'r+', encoding='utf-8') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        os.fchmod(f.fileno(), 0o600)
        f.seek(0)
        text = f.read()
        users = parse_users(text)
        if name in users:
            raise ValueError('user %s exists already in %s' % (name, path))
        f.write(('' if not text or text.endswith('\n') else '\n')
                + line + '\n')


class BasicAuthMiddleware:
    """Checks ``Authorization: Basic`` against the user file."""

    def __init__(self, application, conf):
        self.application = application
        self.conf = conf
        self.path = conf.api.http_basic_auth_user_file
        self._lock = threading.Lock()
        self._key = secrets.token_bytes(32)
        self._signature = _signature(self.path)
        text, mode = _read(self.path)
        self._text_digest = hashlib.sha256(text.encode('utf-8')).digest()
        self._users = _users_of(self.path, text, mode)
        #: {name: keyed digest of the password last verified}.
        self._verified = {}
        self.challenge = 'Basic realm="%s"' % REALM
        self.console_challenge = 'OrchestratorConsole realm="%s"' % REALM

    def _current_users(self):
        """The users, read again if the file changed since.

        A stat per request tells; a file changed in the last seconds is
        read and compared, since two writes within its timestamp's
        granularity may leave the same size and time (as git's "racy"
        index entries).
        """
        signature = _signature(self.path)
        if signature == self._signature and not _recent(signature):
            return self._users
        with self._lock:
            try:
                text, mode = _read(self.path)
            except UserFileError as e:
                if signature != self._signature:
                    LOG.error('%s; the previous users stay', e)
                self._signature = signature
                return self._users
            digest = hashlib.sha256(text.encode('utf-8')).digest()
            if digest != self._text_digest:
                try:
                    users = _users_of(self.path, text, mode)
                except UserFileError as e:
                    LOG.error('%s; the previous users stay', e)
                else:
                    self._users = users
                    self._verified = {}
                    LOG.info('http_basic user file %s read again: %d '
                             'user(s)', self.path, len(users))
                self._text_digest = digest
            self._signature = signature
        return self._users

    def _digest(self, name, password):
        return hmac.new(self._key, b'%s\0%s' % (name, password),
                        hashlib.sha256).digest()

    def authenticate(self, header):
        """The :class:`User` of an ``Authorization`` header value, or None.
        """
        scheme, _, value = (header or '').partition(' ')
        if scheme.lower() != 'basic':
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        raw_name, sep, password = decoded.partition(b':')
        if not sep:
            return None
        try:
            name = raw_name.decode('utf-8')
        except UnicodeDecodeError:
            return None
        users = self._current_users()
        user = users.get(name)
        digest = self._digest(raw_name, password)
        known = self._verified.get(name)
        if user is not None and known is not None and \
                hmac.compare_digest(known, digest):
            return user
        try:
            good = bcrypt.checkpw(password, user.password_hash if user
                                  else _UNKNOWN_USER_HASH)
        except ValueError:
            good = False
        if not good or user is None:
            return None
        self._verified[name] = digest
        return user

    @webob.dec.wsgify
    def __call__(self, req):
        auth.strip_identity_headers(req.environ)
        if auth.is_public(req):
            req.environ[api_request.CONTEXT_KEY] = auth.anonymous_context(
                req.environ)
            return req.get_response(self.application)
        user = self.authenticate(req.headers.get('Authorization'))
        if user is None:
            if auth.auth_optional(req):
                return auth.serve_anonymous(req, self.application)
            return auth.unauthorized(
                self.console_challenge
                if req.path_info.startswith(auth.CONSOLE_API_PREFIX)
                else self.challenge)
        req.environ[api_request.CONTEXT_KEY] = auth.new_context(
            req.environ, self.conf, user.name, user.project_id, user.roles,
            user_name=user.name)
        return req.get_response(self.application)

