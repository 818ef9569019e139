"""Rewrite tests/golden/flows.json from the flows as they are now.

Only for a planned change of a flow's persisted shape, together with its
upgrade of the logbooks in flight (docs/evolution.md)."""

from tests import golden


def main():
    with open(golden.GOLDEN_PATH, 'w') as f:
        f.write(golden.dumps(golden.describe_flows()))
    print('wrote %s' % golden.GOLDEN_PATH)


if __name__ == '__main__':
    main()
