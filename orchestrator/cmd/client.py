"""``orchestrator``: the user CLI (the console script's entry point).

The CLI itself is :mod:`orchestrator.cli` (see
:mod:`orchestrator.cli.main` for its commands and exit codes).
"""

import sys

from orchestrator.cli.main import main

__all__ = ['main']

if __name__ == '__main__':
    sys.exit(main())
