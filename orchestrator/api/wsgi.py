"""A module-level WSGI ``application`` for any WSGI server.

``application`` is built on its first request, not at import: it reads
the configuration file named by ``ORCHESTRATOR_CONFIG_FILE`` (oslo.config's
default locations when unset), configures the database from
``[database]`` and the RPC transport (a broker is required: an in-memory
transport is refused, since a separate process cannot reach it), then
builds :func:`orchestrator.api.app.build_app`. Like every service it
sets the umask 077 and redacts its log records first
(:func:`orchestrator.cmd.bootstrap.secure_process`), and it needs the
secrets key file (:mod:`orchestrator.secret_box`).

Example: ``ORCHESTRATOR_CONFIG_FILE=/etc/orchestrator/orchestrator.conf
gunicorn orchestrator.api.wsgi:application`` (or uwsgi, mod_wsgi, ...).
"""

import os
import threading


from orchestrator import conf as orch_conf
from orchestrator import rpc
from orchestrator import secret_box
from orchestrator.api import app as api_app
from orchestrator.api import auth
from orchestrator.cmd import bootstrap
from orchestrator.db import session

CONFIG_ENV = 'ORCHESTRATOR_CONFIG_FILE'


def load_app(conf=None, config_file=None):
    """Configure the process from a file and return the API application.

    :param conf: the ConfigOpts to fill (default: the global CONF).
    :param config_file: defaults to ``$ORCHESTRATOR_CONFIG_FILE``.
    """
    bootstrap.secure_process()
    conf = conf or orch_conf.CONF
    config_file = config_file or os.environ.get(CONFIG_ENV)
    orch_conf.register_all(conf)
    conf([], project='orchestrator',
         default_config_files=[config_file] if config_file else None)
    # The WSGI server's address is unknown here: noauth only warns.
    auth.check_start(conf, None)
    session.configure_from_conf(conf)
    rpc.init(conf, allow_in_memory=False)
    secret_box.check(conf)
    return api_app.build_app(conf)


class LazyApplication:
    """A WSGI callable that builds the real application once, on first
    use (thread-safe), so importing this module has no side effects."""

    def __init__(self, loader=load_app):
        self._loader = loader
        self._app = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = self._loader()
        return self._app(environ, start_response)


application = LazyApplication()
