"""Failpoints: parsing, matching, and the points a flow passes."""

import subprocess
import sys

import pytest
from taskflow import engines

from orchestrator import failpoints
from orchestrator.compute.manager import ComputeManager

from flows import base
from flows import catalog


@pytest.fixture(autouse=True)
def disarmed():
    yield
    failpoints.arm('')


def test_parse_defaults_to_kill_and_refuses_unknown_actions():
    assert failpoints.parse('a:b:c, x:*:y=raise') == (
        ('a:b:c', 'kill'), ('x:*:y', 'raise'))
    assert failpoints.parse('') == ()
    with pytest.raises(ValueError):
        failpoints.parse('a:b:c=explode')


def test_hit_does_nothing_unarmed_and_raises_when_armed():
    failpoints.hit('f:Step:before-execute')
    failpoints.arm('f:*:before-execute=raise')
    with pytest.raises(failpoints.FailpointHit):
        failpoints.hit('f:Step:before-execute')
    failpoints.hit('f:Step:after-execute')


def test_kill_is_a_real_sigkill():
    code = ('from orchestrator import failpoints; '
            'failpoints.arm("x:y:z"); failpoints.hit("x:y:z"); '
            'print("survived")')
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -9
    assert 'survived' not in result.stdout


class _Recorder(base.InstanceTask):
    persisted_name = 'tests.unit.test_failpoints._Recorder'

    def execute(self):
        _Recorder.ran = True


def test_a_step_passes_its_points_once_its_flow_is_named():
    from taskflow.patterns import linear_flow
    flow = linear_flow.Flow('demo-flow').add(_Recorder())
    for atom in catalog.atoms_of(flow):
        atom.failpoint_flow = flow.name
    failpoints.arm('demo-flow:_Recorder:after-execute=raise')
    _Recorder.ran = False
    with pytest.raises(failpoints.FailpointHit):
        engines.run(flow)
    # It ran: the point is after the work, before the result is kept.
    assert _Recorder.ran


def test_names_cover_every_flow_step_phase_and_compute_call():
    names = failpoints.names(catalog.all_flow_modules(),
                             ComputeManager.rpc_methods())
    for module in catalog.all_flow_modules():
        for atom in catalog.atoms_of(module.get_flow()):
            for phase in failpoints.STEP_PHASES:
                assert failpoints.step_name(module.FLOW_NAME, atom.name,
                                            phase) in names
        assert '%s:job:after-post' % module.FLOW_NAME in names
    assert 'compute:spawn:before-call' in names
    assert 'compute:destroy:after-call' in names
