"""Policy enforcement: oslo.policy with every rule's default in code.

The rules live in :mod:`orchestrator.policies` (one module per resource);
an operator overrides any of them in ``[oslo_policy] policy_file`` (YAML,
see ``etc/orchestrator/policy.yaml.sample``). Handlers never ask
``is_admin``: they call :func:`authorize` with the rule of the operation
and the target it acts on (``{'project_id': ...}`` of the server, or the
caller's own project for lists and creates).

Contracts:

* :func:`authorize` raises :class:`orchestrator.exception.Forbidden` (403)
  when the rule denies, or when the caller's token has a scope the rule
  does not accept (a system-scoped token on a project rule); it never
  answers 404: a caller who may not see another project's server never
  reaches the policy check, because the lookup is filtered by project
  first (:func:`sees_all_projects`).
* Roles are expanded as Keystone's default implied roles do (admin
  implies member, member implies reader), so a ``http_basic`` user with
  ``admin`` passes reader rules as a Keystone token's user does.
* The enforcer is built once per configuration object and reads the
  policy file (if any) on first use and whenever it changes.
"""

import threading

from oslo_config import cfg
from oslo_policy import policy as oslo_policy

from orchestrator import exception
from orchestrator import policies

#: Keystone's default implied roles: a role gives those listed too.
IMPLIED_ROLES = {'admin': ('member', 'reader'), 'member': ('reader',)}

_ENFORCERS = {}
_LOCK = threading.Lock()


def enforcer(conf):
    """The enforcer of ``conf``: built and given the defaults once, and
    again when ``[oslo_policy] policy_file`` names another file."""
    key = id(conf)
    with _LOCK:
        found = _ENFORCERS.get(key)
        if (found is None or found[0] is not conf
                or found[1].policy_file != conf.oslo_policy.policy_file):
            rules_enforcer = oslo_policy.Enforcer(conf)
            rules_enforcer.register_defaults(policies.list_rules())
            found = (conf, rules_enforcer)
            _ENFORCERS[key] = found
        return found[1]


def get_enforcer():
    """The enforcer for oslo.policy's command line tools
    (``oslopolicy-policy-generator``, ``oslopolicy-checker``): they call
    it with no argument and pass their own ``--config-file``."""
    conf = cfg.ConfigOpts()
    conf([], project='orchestrator')
    return enforcer(conf)


def credentials(ctxt):
    """The policy credentials of a request context, roles expanded."""
    # A plain dict: oslo.context's mapping ignores assignments to keys
    # it already holds.
    creds = dict(ctxt.to_policy_values())
    roles = {r.lower() for r in creds.get('roles') or ()}
    for role in list(roles):
        roles.update(IMPLIED_ROLES.get(role, ()))
    creds['roles'] = sorted(roles)
    return creds


def check(conf, ctxt, rule, target=None):
    """True when ``rule`` allows ``ctxt`` on ``target`` (no exception)."""
    target = target if target is not None else _own(ctxt)
    try:
        return enforcer(conf).authorize(rule, target, credentials(ctxt),
                                        do_raise=False)
    except oslo_policy.InvalidScope:
        return False


def authorize(conf, ctxt, rule, target=None):
    """Raise Forbidden (403) unless ``rule`` allows ``ctxt`` on ``target``
    (default: the caller's own project)."""
    if not check(conf, ctxt, rule, target):
        raise exception.Forbidden(action=rule)


def sees_all_projects(conf, ctxt):
    """True when the caller may find any project's resources by id (the
    ``context_is_admin`` rule); others find only their own project's."""
    return check(conf, ctxt, policies.base.CONTEXT_IS_ADMIN,
                 {'project_id': ctxt.project_id})


def _own(ctxt):
    return {'project_id': ctxt.project_id, 'user_id': ctxt.user_id}
