"""Starting the whole system in one process for functional tests:
conductor, 3 fake hosts, SQLite, memory transport, SQL jobboard, and
optionally the HTTP API on a free port.

Tests that need options read at start (periodic intervals) set them with
``conf.set_override`` and call :func:`start_all_in_one` themselves; the
others use the ``system`` and ``api_system`` fixtures of conftest.py.
"""

import socket

from orchestrator.cmd import allinone
from orchestrator.db import hosts

from tests.waiting import wait_for


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_all_in_one(conf, tmp_path, serve_api):
    """A started all-in-one (fast heartbeats and polling); with
    ``serve_api`` its ``.url`` is the HTTP endpoint. Stop it with
    ``.stop()``."""
    conf.set_override('heartbeat_interval_s', 0.5, group='compute')
    conf.set_override('job_poll_interval_s', 0.1, group='conductor')
    conf.set_override('lease_renew_interval_s', 1.0, group='conductor')
    conf.set_override('compute_rpc_timeout_s', 10)
    node = allinone.AllInOne(conf, str(tmp_path / 'state'),
                             listen='127.0.0.1:%d' % free_port(), hosts=3,
                             serve_api=serve_api)
    node.start()
    wait_for(lambda: len(hosts.list_compute_nodes()) == 3, timeout=10,
             what='3 compute nodes reporting')
    if serve_api:
        node.url = 'http://%s:%d' % node.listen
    return node
