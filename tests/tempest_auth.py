"""``make tempest-auth``: tempest's compute API tests that need real,
non-admin identities, against the all-in-one authenticating with a real
Keystone (tests/tempest_harness.py).

    python -m tests.tempest_auth [--regex REGEX] [--workdir DIR]
                                 [--concurrency N]

Keystone has projects alpha and beta with their members; the accounts
are alpha-member the primary, alpha-reader the project reader,
beta-member the alternate, admin the administrator (with --concurrency
above 1, the accounts of that many workers are added). It runs the
chosen classes with stestr and prints the tempest figures: passed,
failed, skipped. The exit status is 0 when nothing failed. Everything
(logs, tempest.log, the stestr repository) stays in the work directory
(a new temporary one by default).

Not part of ``make test``: tempest's classes take minutes.
"""

import os
import re
import sys

from tests import tempest_harness

#: The classes run by default: those with a second project (alternate
#: credentials), and the negative ones of a member.
DEFAULT_CLASSES = (
    'tempest.api.compute.servers.test_servers_negative.'
    'ServersNegativeTestMultiTenantJSON',
    'tempest.api.compute.servers.test_servers_negative.'
    'ServersNegativeTestJSON',
    'tempest.api.compute.servers.test_list_servers_negative.'
    'ListServersNegativeTestJSON',
    'tempest.api.compute.servers.test_instance_actions_negative.'
    'InstanceActionsNegativeTestJSON',
    'tempest.api.compute.servers.test_instance_actions.'
    'InstanceActionsTestJSON',
    'tempest.api.compute.servers.test_server_rescue_negative.'
    'ServerRescueNegativeTestJSON',
    'tempest.api.compute.flavors.test_flavors_negative.'
    'FlavorsV2NegativeTestJSON',
    'tempest.api.compute.admin.test_servers_negative.'
    'ServersAdminNegativeTestJSON',
    'tempest.api.compute.servers.test_list_server_filters.'
    'ListServerFiltersTestJSON',
    'tempest.api.compute.images.test_images_negative.'
    'ImagesNegativeTestJSON',
)

#: Tests left out, each with the reason (an API feature this service does
#: not have yet): stestr's exclude list, one regular expression a line.
EXCLUDED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'tempest_auth_excluded.txt')


def run(work, regex, concurrency, exclude_list=EXCLUDED):
    users = (tempest_harness.accounts_for(concurrency)
             if concurrency > 1 else None)
    try:
        result = tempest_harness.run(work, regex, concurrency, exclude_list,
                                     users=users)
    except RuntimeError as e:
        raise SystemExit('tempest-auth: %s' % e) from None
    for name in result.names('fail'):
        print('FAILED %s' % name)
    print('tempest-auth: passed %(passed)d, failed %(failed)d, skipped '
          '%(skipped)d' % result.figures)
    return 0 if result.ok else 1


def main(argv=None):
    parser = tempest_harness.argument_parser(
        'tempest-auth', __doc__, '(%s)' % '|'.join(
            re.escape(c) for c in DEFAULT_CLASSES),
        'The tests to run (stestr regex); default: the multi-tenant and '
        'negative classes.', 1, EXCLUDED)
    args = parser.parse_args(argv)
    work = tempest_harness.workdir(args, 'tempest-auth-')
    return run(work, args.regex, args.concurrency, args.exclude_list)


if __name__ == '__main__':
    sys.exit(main())
