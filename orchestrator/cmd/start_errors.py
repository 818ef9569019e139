"""Checks a service makes before it starts anything, each failing with a
:class:`StartError` whose message is one line for the operator (the
caller writes it on stderr and exits with status 2, never a traceback).

* :func:`check_config_values`: every option of the configuration files
  converts to its type (oslo.config only converts an option when it is
  first read, which could be deep inside a running flow);
* :func:`check_state_dir`: the state dir is a directory this process can
  create files in (created, owner-only, when missing);
* :func:`database_error`: the message for a database that cannot be
  opened, its URL shown without its password;
* :func:`listen_error`: the message for an address the API cannot
  listen on.
"""

import errno
import os

from oslo_config import cfg
import sqlalchemy.engine

from orchestrator import file_modes


class StartError(Exception):
    """The service must not start; the message is one line."""


def _one_line(text):
    return ' '.join(str(text).split())


def config_error(program_error):
    """The StartError of an oslo.config error raised by the parse (a
    missing or malformed file, a value of the wrong type)."""
    return StartError('bad configuration: %s' % _one_line(program_error))


def check_config_values(conf):
    """Read every registered option once, so that a value of the wrong
    type in a configuration file stops the start now.

    :raises StartError: naming the option, its group and the value.
    """
    try:
        for name in list(conf):
            value = conf[name]
            if isinstance(value, cfg.ConfigOpts.GroupAttr):
                for opt in list(value):
                    value[opt]
    except (cfg.Error, ValueError) as e:
        raise config_error(e) from None


def check_state_dir(path):
    """``path`` is (or is created as) a directory, mode 0700, where this
    process can create files; it is tried by creating and removing a
    file, which also catches a read-only file system and root's lack of
    rights on an odd mount.

    :raises StartError: the path is not a directory, cannot be created
        or cannot be written.
    """
    if os.path.lexists(path) and not os.path.isdir(path):
        raise StartError('state dir %s is not a directory' % path)
    try:
        file_modes.make_dirs(path)
    except OSError as e:
        raise StartError('state dir %s cannot be created (%s)'
                         % (path, e.strerror or e)) from None
    probe = os.path.join(path, '.orchestrator-write-probe-%d' % os.getpid())
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
        file_modes.private_dir(path)
    except OSError as e:
        raise StartError('state dir %s is not writable (%s)'
                         % (path, e.strerror or e)) from None


def safe_url(url):
    """``url`` with its password masked (for messages and logs)."""
    try:
        return sqlalchemy.engine.make_url(url).render_as_string(
            hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL: show its scheme
        return url.split(':', 1)[0] + ':...'


def database_error(url, error):
    """The StartError of a database ``url`` that cannot be opened (or
    upgraded): the URL without its password and the first line of the
    driver's message, which names no password either."""
    detail = getattr(error, 'orig', None) or getattr(
        error, 'inner_exception', None) or error
    if isinstance(detail, OSError) and detail.strerror:
        return StartError('cannot open the database %s ([database] '
                          'connection): %s (%s)' % (
                              safe_url(url), detail.strerror,
                              detail.filename or url))
    text = str(detail).strip().splitlines()
    reason = _one_line(text[0]) if text else type(detail).__name__
    return StartError('cannot open the database %s ([database] connection): '
                      '%s' % (safe_url(url), reason))


_LISTEN_HINTS = {
    errno.EADDRINUSE: 'another process listens there: stop it, or choose '
                      'another port with --listen HOST:PORT',
    errno.EADDRNOTAVAIL: 'no interface of this machine has that address',
    errno.EACCES: 'ports below 1024 need privileges: choose another port',
}


def listen_error(host, port, error):
    """The StartError of an address the API cannot bind
    (``error`` an OSError, its errno kept when known)."""
    reason = getattr(error, 'strerror', None) or _one_line(error)
    hint = _LISTEN_HINTS.get(getattr(error, 'errno', None))
    return StartError('cannot listen on %s:%d: %s%s'
                      % (host, port, reason, ' (%s)' % hint if hint else ''))
