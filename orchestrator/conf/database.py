"""[database] options: oslo.db's, with our default connection."""

from oslo_config import cfg
from oslo_db import options as db_options

_DEFAULT_CONNECTION = 'sqlite:////var/lib/orchestrator/orchestrator.sqlite'


def register_opts(conf):
    db_options.set_defaults(conf, connection=_DEFAULT_CONNECTION)


def set_defaults():
    """Entry point ``oslo.config.opts.defaults``: give oslo.db's options
    our default connection, so the generated sample shows it."""
    cfg.set_defaults(db_options.database_opts,
                     connection=_DEFAULT_CONNECTION)


def list_opts():
    return {'database': db_options.database_opts}
