"""Exit codes of the ``orchestrator`` CLI and the errors that carry them.

=====  ===============================================================
code   meaning
=====  ===============================================================
0      the operation ended as asked
1      the operation failed (ERROR, a fault, the action's flow failed)
2      bad usage, or the API refused the request (4xx; its message on
       one line on stderr)
3      ``--wait`` timed out
4      the API cannot be reached, or the caller cannot authenticate
=====  ===============================================================
"""

OK = 0
FAILED = 1
USAGE = 2
TIMEOUT = 3
UNREACHABLE = 4

#: The table above, for ``--help`` and the README.
HELP = """exit codes:
  0  the operation ended as asked
  1  the operation failed (ERROR, a fault, the action's flow failed)
  2  bad usage, or the API refused the request (4xx; its message on stderr)
  3  --wait timed out
  4  the API cannot be reached, or the caller cannot authenticate"""


class CliError(Exception):
    """An error that ends the command with :attr:`code`; its message is
    one line for stderr."""

    code = FAILED


class Refused(CliError):
    """The API answered 4xx (other than 401), or the command line asks
    for something that cannot be (a name with no match)."""

    code = USAGE

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class NotFound(Refused):
    """The API answered 404."""


class Unreachable(CliError):
    """No answer from the API, or authentication failed (401 included)."""

    code = UNREACHABLE


class ServerError(CliError):
    """The API answered 5xx: the request may or may not have been done;
    reported as a failure."""

    code = FAILED
