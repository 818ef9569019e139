"""Every API rule's default, in code (one module per resource).

:func:`list_rules` is the ``oslo.policy.policies`` entry point
``orchestrator``: ``oslopolicy-sample-generator --namespace orchestrator``
writes them all as a commented YAML sample.
"""

import itertools

from orchestrator.policies import base
from orchestrator.policies import catalog
from orchestrator.policies import console
from orchestrator.policies import consoles
from orchestrator.policies import diagnostics
from orchestrator.policies import extensions
from orchestrator.policies import infrastructure
from orchestrator.policies import keypairs
from orchestrator.policies import quotas
from orchestrator.policies import server_actions
from orchestrator.policies import server_attributes
from orchestrator.policies import server_groups
from orchestrator.policies import server_password
from orchestrator.policies import server_records
from orchestrator.policies import server_tags
from orchestrator.policies import servers
from orchestrator.policies import usage

#: Modules with ``list_rules()``; a new resource adds its module here.
MODULES = (base, servers, server_actions, server_records, catalog,
           infrastructure, quotas, keypairs, server_tags,
           server_attributes, usage, consoles, server_groups, diagnostics,
           console, extensions, server_password)


def list_rules():
    return list(itertools.chain.from_iterable(
        module.list_rules() for module in MODULES))
