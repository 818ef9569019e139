"""Loading drivers by name, and the daemon's refusal of in-memory
transports."""

import os
import subprocess
import sys

import pytest

from orchestrator.compute.drivers import fake
from orchestrator.compute import service as compute_service
from orchestrator import exception

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))


def test_the_fake_driver_loads_by_name(conf, tmp_path):
    conf.set_override('state_path', str(tmp_path))
    driver = compute_service.load_driver('fake', 'h1', conf)
    assert isinstance(driver, fake.FakeDriver)
    assert driver.host == 'h1'
    assert driver.state_dir == str(tmp_path / 'fake-hosts')


def test_an_unknown_driver_is_refused_with_the_known_names(conf):
    with pytest.raises(exception.Invalid, match="'nope'.*fake"):
        compute_service.load_driver('nope', 'h1', conf)


def test_from_conf_uses_the_configured_host_and_driver(conf, tmp_path):
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('host', 'configured-host')
    service = compute_service.ComputeService.from_conf(conf)
    assert service.host == 'configured-host'
    assert isinstance(service.driver, fake.FakeDriver)
    assert not service.running


def _run_daemon(tmp_path, conf_text):
    conf_file = tmp_path / 'orchestrator.conf'
    conf_file.write_text(conf_text)
    return subprocess.run(
        [sys.executable, '-m', 'orchestrator.cmd.compute',
         '--config-file', str(conf_file)],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT))


@pytest.mark.parametrize('url', ['kombu+memory:////', 'fake://'])
def test_the_daemon_refuses_an_in_memory_transport(tmp_path, url):
    done = _run_daemon(tmp_path, '[DEFAULT]\ntransport_url = %s\n'
                                 'state_path = %s\n' % (url, tmp_path))
    assert done.returncode == 1
    assert 'in-memory transport' in done.stderr
    assert 'Traceback' not in done.stderr


def test_the_daemon_refuses_an_unknown_driver(tmp_path):
    done = _run_daemon(tmp_path, '[DEFAULT]\ntransport_url = rabbit://'
                                 'nobody:x@127.0.0.1:1/\nstate_path = %s\n'
                                 '[compute]\ndriver = nope\n' % tmp_path)
    assert done.returncode == 1
    assert "unknown compute driver 'nope'" in done.stderr
