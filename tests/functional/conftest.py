"""The whole system in one process: conductor, fake hosts, SQLite, memory
transport, SQL jobboard; optionally the HTTP API on a free port."""

import socket

import pytest

from orchestrator.cmd import allinone

from tests.waiting import wait_for


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _start(conf, tmp_path, serve_api):
    conf.set_override('heartbeat_interval_s', 0.5, group='compute')
    conf.set_override('job_poll_interval_s', 0.1, group='conductor')
    conf.set_override('lease_renew_interval_s', 1.0, group='conductor')
    conf.set_override('compute_rpc_timeout_s', 10)
    node = allinone.AllInOne(conf, str(tmp_path / 'state'),
                             listen='127.0.0.1:%d' % free_port(), hosts=3,
                             serve_api=serve_api)
    node.start()
    from orchestrator.db import hosts
    wait_for(lambda: len(hosts.list_compute_nodes()) == 3, timeout=10,
             what='3 compute nodes reporting')
    return node


@pytest.fixture
def system(conf, tmp_path):
    """A started all-in-one without HTTP (3 hosts, fast heartbeats)."""
    node = _start(conf, tmp_path, serve_api=False)
    yield node
    node.stop()


@pytest.fixture
def api_system(conf, tmp_path):
    """A started all-in-one serving HTTP; ``.url`` is its endpoint."""
    node = _start(conf, tmp_path, serve_api=True)
    node.url = 'http://%s:%d' % node.listen
    yield node
    node.stop()
