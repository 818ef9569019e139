"""[database] options: oslo.db's, with our default connection."""

from oslo_db import options as db_options

_DEFAULT_CONNECTION = 'sqlite:////var/lib/orchestrator/orchestrator.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf, connection=_DEFAULT_CONNECTION)


def list_opts():
    return {'database': db_options.database_opts}
