"""The key that seals the secrets a flow carries (orchestrator.secret_box):
real Fernet keys in real files."""

import os
import stat

import pytest
from cryptography import fernet

from orchestrator import exception
from orchestrator import secret_box


@pytest.fixture
def key_file(conf, tmp_path):
    path = str(tmp_path / 'keys' / 'secrets.key')
    assert secret_box.create_key_file(path)
    conf.set_override('secrets_key_file', path)
    return path


def test_round_trip(key_file):
    for secret in ('p4ss-word', 'ünïcødé 密码', ''):
        assert secret_box.unseal(secret_box.seal(secret)) == secret


def test_every_seal_differs_and_shows_nothing_of_the_secret(key_file):
    sealed = {secret_box.seal('same-password-1234') for _ in range(20)}
    assert len(sealed) == 20
    for text in sealed:
        assert 'same-password' not in text
        assert text.isascii()
        assert secret_box.unseal(text) == 'same-password-1234'


def test_a_wrong_key_is_a_clear_error(conf, key_file, tmp_path):
    sealed = secret_box.seal('rescue-me')
    other = str(tmp_path / 'other.key')
    secret_box.create_key_file(other)
    conf.set_override('secrets_key_file', other)
    with pytest.raises(secret_box.SecretUnreadable) as caught:
        secret_box.unseal(sealed)
    message = str(caught.value)
    assert other in message
    assert 'sealed with another key' in message
    assert 'rescue-me' not in message
    with pytest.raises(secret_box.SecretUnreadable):
        secret_box.unseal('not a sealed secret')


def test_the_key_file_is_created_owner_only_once(tmp_path):
    path = str(tmp_path / 'new' / 'dir' / 'secrets.key')
    old_umask = os.umask(0o022)
    try:
        assert secret_box.create_key_file(path)
        with open(path, 'rb') as f:
            first = f.read()
        assert not secret_box.create_key_file(path)
    finally:
        os.umask(old_umask)
    with open(path, 'rb') as f:
        assert f.read() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert os.listdir(os.path.dirname(path)) == ['secrets.key']


@pytest.mark.parametrize('content,reason', [
    (None, 'is missing; create it with "orchestrator-manage secrets '
           'create-key"'),
    (b'', 'holds no key'),
    (b'# only a comment\n\n', 'holds no key'),
    (b'not-a-key\n', 'has a key (number 1) that is not a Fernet key'),
])
def test_an_unusable_key_file_is_a_clear_error(conf, tmp_path, content,
                                               reason):
    path = str(tmp_path / 'secrets.key')
    if content is not None:
        with open(path, 'wb') as f:
            f.write(content)
    conf.set_override('secrets_key_file', path)
    for use in (secret_box.check, lambda: secret_box.seal('x'),
                lambda: secret_box.unseal('x')):
        with pytest.raises(secret_box.SecretsKeyError) as caught:
            use()
        assert str(caught.value).startswith(
            'Secrets key file %s ([DEFAULT] secrets_key_file) %s'
            % (path, reason)), str(caught.value)


def test_an_unreadable_key_file_is_a_clear_error(conf, tmp_path):
    # A directory: unreadable as a file even for root (chmod 000 is not).
    conf.set_override('secrets_key_file', str(tmp_path))
    with pytest.raises(secret_box.SecretsKeyError,
                       match='cannot be read \\(Is a directory\\)'):
        secret_box.check()


def test_rotation_first_key_seals_every_key_opens(conf, key_file):
    old_sealed = secret_box.seal('before-rotation')
    with open(key_file, 'rb') as f:
        old_keys = f.read()
    new_key = fernet.Fernet.generate_key()
    with open(key_file, 'wb') as f:
        f.write(new_key + b'\n' + old_keys)
    # The changed file is read again without a restart.
    assert secret_box.unseal(old_sealed) == 'before-rotation'
    new_sealed = secret_box.seal('after-rotation')
    assert fernet.Fernet(new_key).decrypt(new_sealed.encode()) == \
        b'after-rotation'


def test_the_api_answers_503_without_the_path(conf, tmp_path):
    path = str(tmp_path / 'absent.key')
    conf.set_override('secrets_key_file', path)
    with pytest.raises(exception.ServiceUnavailable) as caught:
        secret_box.seal_for_request('x')
    assert caught.value.code == 503
    assert path not in str(caught.value)
    assert 'cannot seal the password' in str(caught.value)


def test_a_key_file_that_cannot_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / 'not-a-dir'
    blocker.write_text('')
    path = str(blocker / 'secrets.key')
    with pytest.raises(secret_box.SecretsKeyError) as caught:
        secret_box.create_key_file(path)
    assert str(caught.value) == (
        'Secrets key file %s ([DEFAULT] secrets_key_file) cannot be '
        'created (Not a directory)' % path)
