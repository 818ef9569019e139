"""TaskFlow's SQL persistence backend with its tables built once.

TaskFlow's ``SQLAlchemyBackend.get_connection`` builds a new ``MetaData``
and a new set of its three tables (logbooks, flowdetails, atomdetails,
with every column and type) for each connection it hands out, and
TaskFlow asks for a connection for every load and save of a flow or atom
detail: about 54 per boot and delete. SQLAlchemy keys its cache of
compiled statements by those Table objects, so none of those statements
was ever found in the cache, each one was compiled again, and the cache
entries kept the throw-away tables alive: the all-in-one's table sets
grew by 54 and its RSS by about 8 MB per boot and delete.

:class:`Backend` builds the tables once and gives every connection the
same ones, so statements compile once and nothing is left per
operation. Everything else is TaskFlow's backend unchanged.
"""

import sqlalchemy as sa
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence.backends.sqlalchemy import tables


class _Connection(impl_sqlalchemy.Connection):
    """TaskFlow's connection on its backend's shared tables."""

    def __init__(self, backend, upgrade_lock):
        # Not the parent's __init__: it is what builds the tables anew.
        self._backend = backend
        self._upgrade_lock = upgrade_lock
        self._engine = backend.engine
        self._metadata, self._tables, self._converter = backend.schema


class Backend(impl_sqlalchemy.SQLAlchemyBackend):
    """A TaskFlow SQL persistence backend on ``engine`` (which it does not
    own: :meth:`close` leaves it open), whose connections share one set
    of table objects for the backend's lifetime."""

    def __init__(self, engine):
        super().__init__({}, engine=engine)
        metadata = sa.MetaData()
        schema = tables.fetch(metadata)
        #: (MetaData, tables, row converter) every connection uses.
        self.schema = (metadata, schema, impl_sqlalchemy._Alchemist(schema))

    def get_connection(self):
        conn = _Connection(self, upgrade_lock=self._upgrade_lock)
        if not self._validated:
            conn.validate(max_retries=self._max_retries)
            self._validated = True
        return conn
