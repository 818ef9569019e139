"""Options listing for oslo-config-generator (entry point oslo.config.opts)."""

from orchestrator.conf import api
from orchestrator.conf import compute
from orchestrator.conf import conductor
from orchestrator.conf import default
from orchestrator.conf import fake_driver
from orchestrator.conf import jobboard
from orchestrator.conf import quota
from orchestrator.conf import scheduler


def list_opts():
    """(group, opts) pairs of every option this project defines."""
    out = []
    for module in (default, api, conductor, compute, fake_driver, jobboard,
                   scheduler, quota):
        for group, opts in module.list_opts().items():
            out.append((group, opts))
    return out
