"""Configuration options, one module per [group].

Nothing here reads configuration at import time: :func:`register_all`
registers every group on :data:`CONF` (the global ``cfg.CONF``, which
oslo.messaging also registers its options on), and :mod:`.opts` lists them
for oslo-config-generator.
"""

from oslo_config import cfg

from orchestrator.conf import api
from orchestrator.conf import compute
from orchestrator.conf import conductor
from orchestrator.conf import database
from orchestrator.conf import default
from orchestrator.conf import fake_driver
from orchestrator.conf import jobboard
from orchestrator.conf import quota
from orchestrator.conf import scheduler

CONF = cfg.CONF

_MODULES = (default, api, conductor, compute, fake_driver, jobboard,
            scheduler, quota, database)


def register_all(conf=CONF):
    """Register every option group on ``conf``; safe to call many times."""
    for module in _MODULES:
        module.register_opts(conf)
