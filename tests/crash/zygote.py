"""A fork server of all-in-one processes, for crash tests.

Importing the all-in-one costs seconds; a crash case starts one at least
twice. ``python -m tests.crash.zygote`` imports it once, then reads
requests on stdin, one JSON object a line::

    {"id": 1, "argv": [...], "env": {...}, "log": "/path/allinone.log"}

and for each forks a child that runs ``orchestrator.cmd.allinone.main
(argv)`` with exactly ``env`` as its environment (the failpoints in it
armed) and its stdout and stderr appended to ``log``. Each child is a
real process of its own: it is killed with a real SIGKILL and its parent
reaps it. The zygote answers on stdout, one JSON object a line::

    {"id": 1, "pid": 1234}                 the child runs
    {"exited": 1234, "returncode": -9}     it ended (negative: by signal)

The zygote stays single-threaded (so forking is safe) and, when its stdin
closes (the test process went away), SIGKILLs the children still running
and exits.
"""

import json
import os
import select
import signal
import sys
import traceback

#: Imported once here, before any fork (what allinone.main needs).
PRELOAD = (
    'orchestrator.cmd.allinone',
    'orchestrator.cmd.api',
    'orchestrator.api.app',
    'orchestrator.conductor.manager',
    'orchestrator.conductor.service',
    'orchestrator.compute.service',
    'orchestrator.compute.drivers.fake',
    'orchestrator.db.schema',
    'taskflow.engines.action_engine.engine',
    'oslo_messaging._drivers.impl_rabbit',
    'sqlalchemy.dialects.sqlite',
)


def _child(request):
    """In the forked child: become the all-in-one; never returns."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(request['log'],
                      os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.clear()
        os.environ.update(request['env'])
        from orchestrator import failpoints
        failpoints.arm(request['env'].get(failpoints.ENV_VAR, ''))
        from orchestrator.cmd import allinone
        sys.argv = ['orchestrator-allinone'] + list(request['argv'])
        code = allinone.main(list(request['argv'])) or 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported in the log
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _send(message):
    sys.stdout.write(json.dumps(message) + '\n')
    sys.stdout.flush()


def _reap(children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send({'exited': pid,
               'returncode': os.waitstatus_to_exitcode(status)})


def serve():
    """Serve fork requests until stdin closes."""
    for name in PRELOAD:
        __import__(name)
    children = set()
    buffered = b''
    _send({'ready': os.getpid()})
    try:
        while True:
            readable, _, _ = select.select([0], [], [], 0.05)
            if readable:
                data = os.read(0, 65536)
                if not data:
                    break
                buffered += data
                while b'\n' in buffered:
                    line, buffered = buffered.split(b'\n', 1)
                    request = json.loads(line)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    pid = os.fork()
                    if pid == 0:
                        _child(request)
                    children.add(pid)
                    _send({'id': request['id'], 'pid': pid})
            _reap(children)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(children):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


if __name__ == '__main__':
    serve()
