"""The test Keystone itself (tests/keystone_server.py) under the load the
tempest workers put on it."""

import concurrent.futures
import uuid


def test_many_first_logins_at_once_all_get_a_token(keystone):
    # A user's first login of a day writes its last_active_at; a dozen at
    # once used to make SQLite refuse some writes ("database is locked")
    # and Keystone answer 500 (5 of 24 here before OneWriterAtATime).
    tag = uuid.uuid4().hex[:8]
    users = {'burst-%s-%d' % (tag, i): ('alpha', 'member')
             for i in range(16)}
    keystone.add_users(users)
    with concurrent.futures.ThreadPoolExecutor(len(users)) as pool:
        tokens = list(pool.map(
            lambda user: keystone.token(user, project='alpha'), users))
    assert len(set(tokens)) == len(users)
