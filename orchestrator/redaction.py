"""Text that leaves a process (log lines, stored faults and events) with
no secret in it, and error messages anyone may read.

* :func:`redact` masks the value written after a secret's name
  (``'admin_password': 'x'``, ``"adminPass": "x"``, ``auth_token=x``,
  ``X-Auth-Token: x``, a whole ``'auth_token_info': {...}``) with
  :data:`MASK`.
* :func:`install_log_redaction` makes every log record of the process
  pass through :func:`redact`, its traceback included, whichever
  library logs it (TaskFlow's "Job execution failed" line prints a
  job with its details, oslo.messaging, ours). Every service installs
  it when it starts (:func:`orchestrator.cmd.bootstrap.secure_process`).
* :func:`public_message` is what a caller who is not an administrator
  may read of an error (a fault's or an action's message): one line, no
  traceback, no file path; an exception that is not one of ours is
  named by its class only, as Nova does.
"""

import logging
import re
import threading
import traceback

#: Names whose values are secrets (case does not matter).
SECRET_NAMES = ('admin_password_sealed', 'admin_password', 'adminPass',
                'auth_token_info', 'auth_token', 'X-Auth-Token',
                'X-Subject-Token', 'password', 'user_data')
MASK = '***'

_NAME = re.compile(
    r'(?<![\w-])(?P<quote>[\'"]?)(?P<name>%s)(?P=quote)\s*[:=]\s*'
    % '|'.join(re.escape(n) for n in SECRET_NAMES), re.IGNORECASE)
#: Where a value written bare (not quoted, not a structure) ends.
_BARE_END = re.compile(r'[\s,;&)}\]]')
_OPENERS = {'{': '}', '[': ']', '(': ')'}
#: Bare values that hold no secret.
_EMPTY = frozenset(['None', 'null', 'none', "''", '""'])


def _quoted_end(text, start):
    """The index after the string literal opening at ``start``."""
    quote = text[start]
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '\\':
            pos += 2
            continue
        if char == quote:
            return pos + 1
        pos += 1
    return len(text)


def _structure_end(text, start):
    """The index after the bracketed structure opening at ``start``
    (brackets inside string literals do not count)."""
    closers = []
    pos = start
    while pos < len(text):
        char = text[pos]
        if char in '\'"':
            pos = _quoted_end(text, pos)
            continue
        if char in _OPENERS:
            closers.append(_OPENERS[char])
        elif closers and char == closers[-1]:
            closers.pop()
            if not closers:
                return pos + 1
        pos += 1
    return len(text)


def _value_end(text, start):
    if start >= len(text):
        return start
    if text[start] in '\'"':
        return _quoted_end(text, start)
    if text[start] in _OPENERS:
        return _structure_end(text, start)
    found = _BARE_END.search(text, start)
    return found.start() if found else len(text)


def redact(text):
    """``text`` with the value after each secret's name masked."""
    if not isinstance(text, str) or not _NAME.search(text):
        return text
    out = []
    pos = 0
    for match in _NAME.finditer(text):
        if match.start() < pos:
            continue  # inside a value masked already
        start = match.end()
        end = _value_end(text, start)
        value = text[start:end]
        out.append(text[pos:start])
        if not value or value in _EMPTY:
            out.append(value)
        elif value[0] in '\'"':
            out.append(value[0] + MASK + value[0])
        else:
            out.append(MASK)
        pos = end
    out.append(text[pos:])
    return ''.join(out)


def redact_record(record):
    """Mask the secrets of a log record in place: its message, and its
    traceback (then written into the message, since formatters render
    ``exc_info`` anew)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad record is logging's problem
        return
    clean = redact(message)
    if record.exc_info and record.exc_info[0] is not None:
        text = ''.join(traceback.format_exception(*record.exc_info))
        clean_text = redact(text)
        if clean_text != text:
            clean = '%s\n%s' % (clean, clean_text.rstrip('\n'))
            record.exc_info = None
            record.exc_text = None
    if clean != message:
        record.msg = clean
        record.args = None


_INSTALL_LOCK = threading.Lock()
_installed = []


def install_log_redaction():
    """Pass every log record made from now on in this process through
    :func:`redact_record`. Idempotent."""
    with _INSTALL_LOCK:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs):
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed.append(factory)


#: An absolute file path (``/a/b...``), not the path of a URL.
_PATH = re.compile(r'(?<![\w.:/~-])/(?:[\w.@+-]+/)+[\w.@+-]*')
#: Modules whose exceptions have messages written for users.
_OUR_MODULES = ('orchestrator.exception.',)


def _short_type(type_name):
    return type_name.rsplit('.', 1)[-1].replace('_Remote', '')


def public_message(text, type_names=()):
    """What anyone may read of an error whose message is ``text``.

    :param type_names: the exception's class and bases as dotted names
        (what iterating a TaskFlow Failure gives); an exception none of
        them is ours gives only its class name.
    :returns: the message's first line (a remote exception's traceback
        follows it), secrets masked, file paths left out.
    """
    if type_names and not any(name.startswith(_OUR_MODULES)
                              for name in type_names):
        return _short_type(type_names[0])
    lines = str(text or '').strip().splitlines() or ['']
    line = ' '.join(lines[0].split())
    return _PATH.sub('<path>', redact(line))


def public_error(error):
    """:func:`public_message` of the exception ``error``."""
    return public_message(str(error), ['%s.%s' % (cls.__module__,
                                                  cls.__qualname__)
                                       for cls in type(error).__mro__])
