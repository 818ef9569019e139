"""Write the logbook snapshots of every flow (see :mod:`tests.logbooks`).

    python -m tests.logbooks.generate --release 2026.12 \\
        --out tests/fixtures/logbooks/2026.12/ [--flow stop-server ...]

For each flow of the catalogue and each of its points
(:func:`tests.logbooks.points`), an all-in-one (a fork of the crash
suite's zygote) on a copy of the crash suite's template runs the flow's
recipe with the point's failpoint armed to kill; once it is dead, its
state directory is written as one JSON file. Run it on a release's code
when the release is cut; never regenerate an older release's snapshots.
"""

import argparse
import json
import os
import tempfile

from orchestrator import failpoints

from flows import evolution

from tests.crash import cases
from tests.crash import checks
from tests.crash import harness
from tests.crash import recipes
from tests.crash import scenario
from tests.functional.systems import free_port
from tests import logbooks


def capture(case, template_dir, servers, launcher, work_dir):
    """Run ``case`` until its process is killed; the snapshot (a dict)."""
    recipe = recipes.RECIPES[case.flow]
    module = recipes.flow_modules()[case.flow]
    state_dir = os.path.join(work_dir, 'state')
    recipes.copy_template(template_dir, state_dir)
    aio = harness.AllInOneProcess(state_dir, free_port(), launcher=launcher)
    try:
        if case.rollback == cases.FAULT:
            aio.faults(recipe.fail)
        aio.start(env=scenario._env(case, module, recipe, case.failpoint),
                  config=recipe.all_config(), hosts=recipe.hosts)
        recipe.prepare(aio)
        known = {i['uuid'] for i in checks.read_db(aio)[
            'instances']}
        server_id = servers.get(recipe.server)
        recipe.send(aio, server_id)
        scenario._die_at(aio, case.failpoint)
        if server_id is None:
            server_id = scenario._new_instance(aio, known)
    finally:
        aio.close()
    outcome, status = logbooks.expected_end(case)
    return logbooks.dump(state_dir, {
        'flow': case.flow, 'flow_version': evolution.flow_version(module),
        'case': case.id, 'failpoint': case.failpoint,
        'rollback': case.rollback, 'server_id': server_id,
        'hosts': recipe.hosts, 'config': recipe.all_config(),
        'armed': scenario._env(case, module, recipe).get(
            failpoints.ENV_VAR, ''),
        'expected_flow_state': outcome, 'expected_status': status})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--release', required=True)
    parser.add_argument('--out', required=True)
    parser.add_argument('--flow', action='append',
                        help='only this flow (e.g. stop-server); repeat')
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    launcher = harness.ZygoteLauncher()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            template_dir, servers = recipes.shared_template(
                os.path.join(tmp, 'template'), free_port(), launcher)
            for flow, module in recipes.flow_modules().items():
                recipe = recipes.RECIPES.get(flow)
                short = flow[len(cases.PREFIX):]
                if recipe is None or (args.flow and short not in args.flow):
                    continue
                for point, case in logbooks.points(module, recipe).items():
                    work = tempfile.mkdtemp(dir=tmp)
                    snapshot = capture(case, template_dir, servers,
                                       launcher, work)
                    snapshot.update(release=args.release, point=point)
                    path = os.path.join(args.out,
                                        logbooks.file_name(flow, point))
                    with open(path, 'w') as f:
                        json.dump(snapshot, f, sort_keys=True)
                        f.write('\n')
                    print('wrote %s (%s)' % (path, case.id), flush=True)
    finally:
        launcher.close()


if __name__ == '__main__':
    main()
