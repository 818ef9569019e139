"""Fixtures of the unit tests: the databases we support (the API tests
of quotas race on each of them too)."""

import pytest

from orchestrator.db import schema
from orchestrator.db import session


@pytest.fixture(params=[
    'sqlite',
    pytest.param('postgresql', marks=pytest.mark.integration),
    pytest.param('mariadb', marks=pytest.mark.integration),
])
def database(request):
    """A configured, synced database of each kind we support."""
    if request.param == 'sqlite':
        yield request.getfixturevalue('db')
        return
    url = request.getfixturevalue(
        'pg_url' if request.param == 'postgresql' else 'mysql_url')
    engine = session.configure(url)
    schema.db_sync(engine)
    yield engine
    engine.dispose()
