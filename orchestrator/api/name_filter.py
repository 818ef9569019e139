"""The ``name`` filter of the server list: a regular expression matched in
linear time.

Nova hands the filter to the database's regex engine. We match in this
process, so the engine must not backtrack: with Python's ``re`` a pattern
such as ``^(a|a)*$b`` against a name of 63 ``a`` runs for ages while
holding the GIL, and freezes every thread of the process (API, conductor,
hosts of an all-in-one). RE2 (the ``google-re2`` package) guarantees time
linear in the length of the name, and memory bounded by
:data:`MAX_PROGRAM_BYTES`.

Contract of :func:`matcher`:

* ``None`` (no filter) -> ``None``;
* longer than :data:`MAX_PATTERN_LENGTH` characters -> 400 (Invalid);
* a pattern RE2 accepts (Python's syntax minus backreferences and
  lookaround) is searched in the name (``re.search`` semantics);
* any other pattern (invalid, or one RE2 refuses: backreferences,
  lookaround, a program too large) is matched as a literal substring.
"""

import re2

from orchestrator import exception

#: Longest pattern accepted (characters); a name is at most 255, this
#: leaves room for alternations of several names.
MAX_PATTERN_LENGTH = 1024

#: Memory RE2 may use for one compiled pattern; a larger program (e.g.
#: nested counted repetitions) fails to compile and is matched literally.
MAX_PROGRAM_BYTES = 1 << 20


def _options():
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_BYTES
    # NOTE(api): RE2 otherwise logs every refused pattern to stderr.
    options.log_errors = False
    return options


def matcher(pattern):
    """A predicate ``instance -> bool`` for the ``name`` filter ``pattern``
    (see the module's contract), or None when ``pattern`` is None."""
    if pattern is None:
        return None
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise exception.Invalid(
            'The name filter is too long: %d characters, at most %d are '
            'allowed.' % (len(pattern), MAX_PATTERN_LENGTH))
    try:
        regex = re2.compile(pattern, _options())
    except re2.error:
        return lambda instance: pattern in (instance['display_name'] or '')
    return lambda instance: regex.search(instance['display_name'] or '') \
        is not None
