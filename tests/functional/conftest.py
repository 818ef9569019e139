"""The whole system in one process: conductor, fake hosts, SQLite, memory
transport, SQL jobboard; optionally the HTTP API on a free port."""

import pytest

from tests.functional.systems import start_all_in_one


@pytest.fixture
def system(conf, tmp_path):
    """A started all-in-one without HTTP (3 hosts, fast heartbeats)."""
    node = start_all_in_one(conf, tmp_path, serve_api=False)
    yield node
    node.stop()


@pytest.fixture
def api_system(conf, tmp_path):
    """A started all-in-one serving HTTP; ``.url`` is its endpoint."""
    node = start_all_in_one(conf, tmp_path, serve_api=True)
    yield node
    node.stop()
