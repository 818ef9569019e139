"""The command line: what each command parses to and the bodies the
action verbs send; usage errors exit 2."""

import argparse
import io

import pytest

from orchestrator.cli import main
from orchestrator.cli import server_actions
from orchestrator.cli import servers


def parse(*argv):
    return main.build_parser().parse_args(list(argv))


VERBS = {v.name: v for v in server_actions.VERBS}


def body(*argv):
    args = parse('server', *argv)
    return VERBS[args.command].body(None, args, {'id': 's-1'})


def test_create_takes_every_option():
    args = parse('server', 'create', 'vm', '--flavor', 'm1.tiny',
                 '--image', 'cirros', '--key-name', 'k',
                 '--availability-zone', 'az1', '--user-data', 'ud.txt',
                 '--property', 'a=1', '--property', 'b=x=y', '--tag', 't1',
                 '--tag', 't2', '--hint', 'group=g-1', '--description',
                 'd', '--min', '2', '--max', '3', '--no-network',
                 '--wait', '--timeout', '5', '-f', 'json')
    assert (args.name, args.flavor, args.image, args.key_name,
            args.availability_zone, args.user_data) == (
        'vm', 'm1.tiny', 'cirros', 'k', 'az1', 'ud.txt')
    assert args.property == [('a', '1'), ('b', 'x=y')]
    assert args.tag == ['t1', 't2'] and args.hint == [('group', 'g-1')]
    assert (args.min, args.max, args.no_network, args.wait, args.timeout,
            args.format) == (2, 3, True, True, 5.0, 'json')


def test_list_filters():
    args = parse('server', 'list', '--status', 'ACTIVE', '--host', 'h1',
                 '--name', 'vm', '--all-projects', '--limit', '5')
    assert (args.status, args.host, args.name, args.all_projects,
            args.limit, args.format) == ('ACTIVE', 'h1', 'vm', True, 5,
                                         'table')


@pytest.mark.parametrize('argv', [
    ('server', 'create', 'vm', '--image', 'i'),           # no --flavor
    ('server', 'create', 'vm', '--flavor', 'f', '--image', 'i',
     '--property', 'novalue'),
    ('server', 'frobnicate', 'vm'),
    ('server', 'list', '-f', 'yaml'),
    ('flow', 'list', '--state', 'closed'),
    ('server', 'stop', 'vm', '--timeout', 'soon'),
])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main.main(list(argv))
    assert exit_.value.code == 2
    assert 'usage:' in capsys.readouterr().err


def test_every_verb_takes_wait_timeout_and_format():
    for name in list(VERBS) + ['live-migrate-abort', 'delete']:
        args = parse('server', name, 'vm', *{
            'resize': ('--flavor', 'm1.small'),
            'snapshot': ('img',), 'backup': ('img',)}.get(name, ()),
            '--wait', '--timeout', '7', '-f', 'json')
        assert (args.wait, args.timeout, args.format) == (True, 7.0, 'json')


def test_action_bodies():
    assert body('stop', 'vm') == {'os-stop': None}
    assert body('start', 'vm') == {'os-start': None}
    assert body('reboot', 'vm') == {'reboot': {'type': 'SOFT'}}
    assert body('reboot', 'vm', '--hard') == {'reboot': {'type': 'HARD'}}
    assert body('pause', 'vm') == {'pause': None}
    assert body('unpause', 'vm') == {'unpause': None}
    assert body('suspend', 'vm') == {'suspend': None}
    assert body('resume', 'vm') == {'resume': None}
    assert body('rescue', 'vm') == {'rescue': None}
    assert body('unrescue', 'vm') == {'unrescue': None}
    assert body('snapshot', 'vm', 'img', '--property', 'k=v') == {
        'createImage': {'name': 'img', 'metadata': {'k': 'v'}}}
    assert body('backup', 'vm', 'b', '--type', 'weekly',
                '--rotation', '2') == {'createBackup': {
                    'name': 'b', 'backup_type': 'weekly', 'rotation': 2}}
    assert body('resize-confirm', 'vm') == {'confirmResize': None}
    assert body('resize-revert', 'vm') == {'revertResize': None}
    assert body('migrate', 'vm') == {'migrate': None}
    assert body('migrate', 'vm', '--host', 'h2') == {
        'migrate': {'host': 'h2'}}
    assert body('live-migrate', 'vm') == {'os-migrateLive': {
        'host': None, 'block_migration': 'auto'}}
    assert body('live-migrate', 'vm', '--host', 'h2',
                '--block-migration') == {'os-migrateLive': {
                    'host': 'h2', 'block_migration': True}}
    assert body('evacuate', 'vm', '--host', 'h2') == {
        'evacuate': {'host': 'h2'}}
    assert body('shelve', 'vm') == {'shelve': None}
    assert body('unshelve', 'vm') == {'unshelve': None}
    assert body('unshelve', 'vm', '--availability-zone', 'az') == {
        'unshelve': {'availability_zone': 'az'}}
    assert body('lock', 'vm', '--reason', 'audit') == {
        'lock': {'locked_reason': 'audit'}}
    assert body('unlock', 'vm') == {'unlock': None}


def test_passwords_come_from_stdin(monkeypatch):
    monkeypatch.setattr('sys.stdin', io.StringIO('s3cret\n'))
    assert body('rescue', 'vm', '--password-stdin') == {
        'rescue': {'adminPass': 's3cret'}}
    monkeypatch.setattr('sys.stdin', io.StringIO('other\n'))
    assert body('evacuate', 'vm', '--password-stdin') == {
        'evacuate': {'adminPass': 'other'}}


def test_key_value_type():
    assert servers.key_value('a=b=c') == ('a', 'b=c')
    for bad in ('a', '=b'):
        with pytest.raises(argparse.ArgumentTypeError):
            servers.key_value(bad)


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main.main(['--help'])
    text = capsys.readouterr().out
    for line in ('0  the operation ended as asked', '3  --wait timed out',
                 '4  the API cannot be reached'):
        assert line in text
