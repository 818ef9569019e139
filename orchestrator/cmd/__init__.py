"""The console scripts.

Imported before any of them: TaskFlow and oslo.service import eventlet,
whose import warns (on stderr, a dozen lines) that it is deprecated. We
never use eventlet, and a command's stderr is for its operator: a start
that fails says one line there (:mod:`orchestrator.cmd.start_errors`).
"""

import warnings

warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
