"""Files only their owner may read: the state dir, the SQLite database,
the fake hosts' files, key files and logs.

Every service calls :func:`restrict_umask` when it starts (through
:func:`orchestrator.cmd.bootstrap.secure_process`), so whatever it
creates (a log file, SQLite's ``-wal`` and ``-shm`` files, a file some
library opens) is owner-only. The files that matter are also created
with explicit modes here, so they stay owner-only whatever the umask
of the process that made them:

* :func:`private_dir`: a directory this process keeps its state in
  (``0700``; an existing one that others may read is tightened);
* :func:`make_dirs`: the missing directories above a file (``0700``;
  existing directories are never touched: ``/etc``, ``/var/lib``...);
* :func:`private_file`: an existing or empty file (``0600``), e.g. a
  database before SQLite opens it;
* :func:`open_private`: a file written anew (``0600``).
"""

import contextlib
import logging
import os
import stat

LOG = logging.getLogger(__name__)

#: The process umask of every service: nothing for group or others.
UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077


def restrict_umask():
    """Set the process umask to :data:`UMASK`; returns the previous one."""
    return os.umask(UMASK)


def make_dirs(path):
    """Create ``path`` and its missing parents owner-only. Directories
    that exist are left as they are."""
    if not path or os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path:
        make_dirs(parent)
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, DIR_MODE)
        # NOTE: mkdir's mode passes through the umask; the mode is meant.
        os.chmod(path, DIR_MODE)


def private_dir(path):
    """``path`` exists, mode 0700. An existing directory of this user
    that others may read is tightened (with a warning), unless it is a
    shared one (sticky bit, as ``/tmp``) or another user's."""
    make_dirs(path)
    info = os.stat(path)
    if (info.st_mode & _OTHERS and info.st_uid == os.getuid()
            and not info.st_mode & stat.S_ISVTX):
        LOG.warning('State directory %s was readable by others (mode %o); '
                    'now 0700', path, stat.S_IMODE(info.st_mode))
        os.chmod(path, DIR_MODE)


def _tighten(fd):
    info = os.fstat(fd)
    if info.st_mode & _OTHERS and info.st_uid == os.getuid():
        os.fchmod(fd, FILE_MODE)


def private_file(path):
    """``path`` exists and only its owner may read it: created empty
    (mode 0600) when missing, an existing file of this user tightened."""
    make_dirs(os.path.dirname(os.path.abspath(path)))
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE)
    try:
        _tighten(fd)
    finally:
        os.close(fd)


def open_private(path, mode='w', encoding='utf-8'):
    """``open(path, mode)`` for writing (``'w'``, ``'wb'``, ``'a'``),
    the file created 0600 if missing and tightened if others could read
    it."""
    flags = os.O_WRONLY | os.O_CREAT
    flags |= os.O_APPEND if mode.startswith('a') else os.O_TRUNC
    fd = os.open(path, flags, FILE_MODE)
    try:
        _tighten(fd)
        return os.fdopen(fd, mode, encoding=None if 'b' in mode
                         else encoding)
    except BaseException:
        os.close(fd)
        raise
