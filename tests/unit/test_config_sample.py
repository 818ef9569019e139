"""The committed configuration sample matches the options in the code."""

import configparser
import difflib
import os
import socket
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
GENERATOR_CONF = os.path.join(
    ROOT, 'etc', 'orchestrator', 'orchestrator-config-generator.conf')
SAMPLE = os.path.join(ROOT, 'etc', 'orchestrator', 'orchestrator.conf.sample')

# Run the generator in a fresh interpreter: it loads every namespace's
# options through entry points, and nothing of this test process (its
# argv[0], its registered options) may leak into the output.
_RUN_GENERATOR = ('import sys; from oslo_config import generator; '
                  'sys.exit(generator.main(sys.argv[1:]))')


def _generate(output_file):
    proc = subprocess.run(
        [sys.executable, '-c', _RUN_GENERATOR,
         '--config-file', GENERATOR_CONF, '--output-file', output_file],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, (
        'oslo-config-generator failed (is the project installed, so that '
        'its oslo.config.opts entry point exists? run "make venv"):\n'
        + proc.stderr)


def test_sample_is_up_to_date(tmp_path):
    fresh = tmp_path / 'orchestrator.conf.sample'
    _generate(str(fresh))
    with open(SAMPLE, encoding='utf-8') as f:
        committed = f.read()
    generated = fresh.read_text(encoding='utf-8')
    if committed != generated:
        diff = ''.join(difflib.unified_diff(
            committed.splitlines(True), generated.splitlines(True),
            'committed', 'generated', n=1))
        raise AssertionError(
            'etc/orchestrator/orchestrator.conf.sample is stale: run '
            '"make genconfig" (or "tox -e genconfig") and commit the '
            'result.\n' + diff[:4000])


def test_sample_has_our_groups_and_no_host_specific_values():
    with open(SAMPLE, encoding='utf-8') as f:
        text = f.read()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    for group in ('api', 'compute', 'conductor', 'database', 'fake_driver',
                  'jobboard', 'scheduler', 'oslo_messaging_rabbit'):
        assert parser.has_section(group), group
    assert '#host = <hostname>' in text
    hostname = socket.gethostname()
    defaults = [line[1:].split(' = ', 1)[1] for line in text.splitlines()
                if line.startswith('#') and ' = ' in line]
    for value in defaults:
        assert hostname not in value.split(','), (
            'the sample shows this machine\'s host name as a default: the '
            'option needs sample_default')
        assert ROOT not in value, 'the sample shows a path of this checkout'


def test_generator_conf_names_every_namespace():
    with open(GENERATOR_CONF, encoding='utf-8') as f:
        lines = f.read().splitlines()
    namespaces = [line.split('=', 1)[1].strip() for line in lines
                  if line.replace(' ', '').startswith('namespace=')]
    assert namespaces[0] == 'orchestrator'
    for needed in ('oslo.messaging', 'oslo.db', 'oslo.log'):
        assert needed in namespaces
