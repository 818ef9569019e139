"""The policy engine: the committed sample is current, every API
operation has a registered rule, a policy file overrides a default, and
the personas' roles expand as Keystone's implied roles do."""

import difflib
import os
import subprocess
import sys

import pytest

from oslo_config import cfg
from oslo_policy import opts as policy_opts

from orchestrator import context
from orchestrator import exception
from orchestrator import policies
from orchestrator import policy
from orchestrator import state_machine
from orchestrator.api import app as api_app
from orchestrator.api import server_actions
from orchestrator.policies import server_actions as action_rules
from orchestrator.policies import servers as server_rules

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
GENERATOR_CONF = os.path.join(
    ROOT, 'etc', 'orchestrator', 'orchestrator-policy-generator.conf')
SAMPLE = os.path.join(ROOT, 'etc', 'orchestrator', 'policy.yaml.sample')


def test_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / 'policy.yaml.sample'
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable),
                      'oslopolicy-sample-generator'),
         '--config-file', GENERATOR_CONF, '--output-file', str(fresh)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with open(SAMPLE, encoding='utf-8') as f:
        committed = f.read()
    generated = fresh.read_text(encoding='utf-8')
    diff = ''.join(difflib.unified_diff(
        committed.splitlines(True), generated.splitlines(True),
        'committed', 'generated'))
    assert committed == generated, (
        'etc/orchestrator/policy.yaml.sample is stale; run "make '
        'genpolicy" and commit it:\n' + diff)


def test_rule_names_are_unique():
    names = [r.name for r in policies.list_rules()]
    assert len(names) == len(set(names))


def test_every_server_action_has_a_rule():
    assert api_app.ACTION_MODULES  # every action module is imported
    assert set(server_actions.HANDLERS) == (
        set(action_rules.ACTIONS) | set(action_rules.FLAG_ACTIONS)
        | set(action_rules.READ_ACTIONS))


@pytest.mark.parametrize('key', sorted(action_rules.ACTIONS))
def test_action_defaults_follow_the_state_machine(key):
    name, action = action_rules.ACTIONS[key]
    default = {r.name: r.check_str for r in policies.list_rules()}[name]
    admin_only = state_machine.ACTIONS[action].admin_only
    assert (default == 'rule:context_is_admin') == admin_only


def _conf(policy_file=None):
    conf = cfg.ConfigOpts()
    for group, options in policy_opts.list_opts():
        conf.register_opts(options, group=group)
    conf([], project='orchestrator-test')
    if policy_file:
        conf.set_override('policy_file', str(policy_file),
                          group='oslo_policy')
    return conf


def _ctxt(roles, project='p1'):
    return context.RequestContext(user_id='u', project_id=project,
                                  roles=roles, overwrite=False)


@pytest.mark.parametrize('roles,project,allowed', [
    (['admin'], 'other', True),      # admin: any project
    (['member'], 'p1', True),        # member of the owning project
    (['reader'], 'p1', False),       # reader may not create
    (['member'], 'p2', False),       # member of another project
    ([], 'p1', False),               # no role at all
])
def test_create_rule_personas(roles, project, allowed):
    conf = _conf()
    ctxt = _ctxt(roles, project)
    assert policy.check(conf, ctxt, server_rules.CREATE,
                        {'project_id': 'p1'}) is allowed


def test_admin_implies_reader_rules():
    conf = _conf()
    assert policy.check(conf, _ctxt(['member']), server_rules.SHOW,
                        {'project_id': 'p1'})
    assert sorted(policy.credentials(_ctxt(['admin']))['roles']) == [
        'admin', 'member', 'reader']


def test_system_scoped_token_is_refused():
    conf = _conf()
    ctxt = context.RequestContext(user_id='u', roles=['admin'],
                                  system_scope='all', overwrite=False)
    with pytest.raises(exception.Forbidden):
        policy.authorize(conf, ctxt, server_rules.INDEX)


def test_policy_file_overrides_a_default(tmp_path):
    path = tmp_path / 'policy.yaml'
    path.write_text('"os_compute_api:servers:create": "role:admin"\n')
    conf = _conf(path)
    member = _ctxt(['member'])
    assert not policy.check(conf, member, server_rules.CREATE)
    assert policy.check(conf, _ctxt(['admin']), server_rules.CREATE)
    # Rules the file does not name keep their defaults.
    assert policy.check(conf, member, server_rules.SHOW,
                        {'project_id': 'p1'})


def test_unknown_rule_is_an_error_not_an_allow():
    with pytest.raises(Exception, match='has not been registered'):
        policy.check(_conf(), _ctxt(['admin']), 'no:such:rule')


def test_policy_file_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / 'policy.yaml'
    path.write_text('"os_compute_api:servers:create": "role:admin"\n')
    conf = _conf(path)
    member = _ctxt(['member'])
    assert not policy.check(conf, member, server_rules.CREATE)
    path.write_text('"os_compute_api:servers:create": "role:member"\n')
    later = os.stat(path).st_mtime + 10
    os.utime(path, (later, later))
    assert policy.check(conf, member, server_rules.CREATE)
