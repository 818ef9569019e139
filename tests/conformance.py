"""``make conformance``: tempest's compute API tests (tempest.api.compute,
all of them) as this service's conformance suite, against the all-in-one
authenticating with a real Keystone (tests/tempest_harness.py).

    python -m tests.conformance [--regex REGEX] [--workdir DIR]
                                [--concurrency N] [--exclude-list FILE]
                                [--fail-under PERCENT]

The tests that need a service this deployment does not have (Cinder,
Neutron beyond the stand-in) are left out by tests/conformance_excluded.txt
(one stestr regex a line with its reason). Keystone gets the accounts of
``--concurrency`` tempest workers (tempest_harness.accounts_for); the
microversions tempest may use go up to the API's maximum.

It prints passed, failed and skipped (tempest's own skips: features
tempest.conf says the API lacks), how many tests the exclusion list left
out, and the share of the tests run (passed + failed) that passed; it
writes to the work directory ``failures.txt`` (each failed test, a tab,
its first error line) and ``skipped.txt`` (each skipped test and
tempest's reason). The exit status is 1 when the share is under
``--fail-under`` (default 0: the run is a report) or the run itself
broke.
"""

import os
import subprocess
import sys

from tests import tempest_harness

DEFAULT_REGEX = r'^tempest\.api\.compute\.'

EXCLUDED = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'conformance_excluded.txt')

#: Workers: the machine has two cores shared with the all-in-one and
#: Keystone; tempest's workers mostly wait on the API.
DEFAULT_CONCURRENCY = 3


def count_listed(work, regex, exclude_list=None):
    """How many tests stestr lists for ``regex`` in the workspace."""
    result = subprocess.run(
        [tempest_harness.stestr_bin(), 'list']
        + (['--exclude-list', exclude_list] if exclude_list else [])
        + [regex], cwd=work, capture_output=True, text=True, check=True)
    return len([line for line in result.stdout.splitlines()
                if line.strip()])


def percentage(figures):
    ran = figures['passed'] + figures['failed']
    return 100.0 * figures['passed'] / ran if ran else 0.0


def report(work, result, excluded):
    """Write failures.txt and skipped.txt; return the summary lines."""
    with open(os.path.join(work, 'failures.txt'), 'w') as f:
        for name in result.names('fail'):
            f.write('%s\t%s\n' % (name, result.tests[name][1]))
    with open(os.path.join(work, 'skipped.txt'), 'w') as f:
        for name in result.names('skip'):
            f.write('%s\t%s\n' % (name, result.tests[name][1]))
    figures = result.figures
    lines = ['FAILED %s: %s' % (name, result.tests[name][1])
             for name in result.names('fail')]
    lines.append(
        'conformance: passed %d, failed %d, skipped %d (tempest), excluded '
        '%s (%s)' % (figures['passed'], figures['failed'],
                     figures['skipped'],
                     '?' if excluded is None else excluded,
                     os.path.basename(EXCLUDED)))
    lines.append('conformance: %.1f%% of the non-excluded tests run pass '
                 '(%d of %d); failures in %s'
                 % (percentage(figures), figures['passed'],
                    figures['passed'] + figures['failed'],
                    os.path.join(work, 'failures.txt')))
    return lines


def main(argv=None):
    parser = tempest_harness.argument_parser(
        'conformance', __doc__, DEFAULT_REGEX,
        'The tests (stestr regex; default: %(default)s).',
        DEFAULT_CONCURRENCY, EXCLUDED)
    parser.add_argument('--fail-under', type=float, default=0.0,
                        help='Exit 1 when fewer than this percentage of '
                             'the tests run pass.')
    args = parser.parse_args(argv)
    work = tempest_harness.workdir(args, 'conformance-')
    try:
        result = tempest_harness.run(
            work, args.regex, args.concurrency, args.exclude_list,
            users=tempest_harness.accounts_for(args.concurrency))
    except RuntimeError as e:
        raise SystemExit('conformance: %s' % e) from None
    excluded = None
    if args.exclude_list:
        excluded = (count_listed(work, args.regex)
                    - count_listed(work, args.regex, args.exclude_list))
    for line in report(work, result, excluded):
        print(line)
    if not result.tests:
        print('conformance: no test ran; see %s'
              % os.path.join(work, 'stestr-run.txt'))
        return 1
    return 0 if percentage(result.figures) >= args.fail_under else 1


if __name__ == '__main__':
    sys.exit(main())
