"""The evolution demonstration: the next release moves a step class to
another module and adds a step to a flow, and every snapshot of the
releases before still resumes.

    python -m tests.logbooks.demonstrate [--keep DIR]

It copies the working tree (tracked and untracked files, ignored ones
left out) into a temporary directory and changes the copy as a
contributor would (docs/evolution.md):

1. ``flows/tasks/power.py`` becomes ``flows/tasks/power_ops.py`` (every
   import follows); its classes keep their ``persisted_name``, so no
   upgrade is declared for the move;
2. the stop flow gains a step, ``flows.stop.CheckStillOwned``, before its
   host call: ``FLOW_VERSION = 2`` and ``UPGRADES`` declare it
   (:class:`flows.evolution.AddedStep`);

then checks the copy: the old module is gone, the golden test fails
(the change is a deliberate one) until the golden file is regenerated,
and tests/logbooks/test_resume.py with ``LOGBOOKS_ALL=1`` resumes every
committed snapshot with the changed code. Exit status 0 when all of it
holds.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

ADDED_STEP = '''

class CheckStillOwned(base.InstanceTask):
    """Added by the demonstration: the claim is checked before the host
    call. Nothing to revert."""

    persisted_name = 'flows.stop.CheckStillOwned'

    def execute(self, context, instance_uuid, task_id):
        self.check_claim(instance_uuid, task_id)


def get_flow():
    return linear_flow.Flow(FLOW_NAME).add(
        power.ClearTaskOnRevert(),
        CheckStillOwned(),
        power.ChangePowerOnHost('power_off'),
        power.FinishPowerAction(state_machine.STOP, states.STOPPED))
'''


def copy_tree(dest):
    """Copy the working tree's files (tracked and untracked, not
    ignored) to ``dest``."""
    files = subprocess.run(
        ['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=REPO,
        check=True, capture_output=True).stdout.decode().split('\0')
    for name in filter(None, files):
        src = os.path.join(REPO, name)
        if not os.path.isfile(src):
            continue  # deleted in the working tree
        os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, name))


def move_power_module(root):
    """flows/tasks/power.py -> flows/tasks/power_ops.py, imports too."""
    os.rename(os.path.join(root, 'flows/tasks/power.py'),
              os.path.join(root, 'flows/tasks/power_ops.py'))
    pattern = re.compile(r'^from flows\.tasks import power$', re.M)
    changed = 0
    for top in ('flows', 'orchestrator', 'tests'):
        for dirpath, _dirs, names in os.walk(os.path.join(root, top)):
            for name in names:
                if not name.endswith('.py'):
                    continue
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    text = f.read()
                new = pattern.sub('from flows.tasks import power_ops as '
                                  'power', text)
                new = new.replace('flows.tasks.power import',
                                  'flows.tasks.power_ops import')
                if new != text:
                    changed += 1
                    with open(path, 'w') as f:
                        f.write(new)
    return changed


def add_stop_step(root):
    """The stop flow gains CheckStillOwned, declared as an upgrade."""
    path = os.path.join(root, 'flows/stop.py')
    with open(path) as f:
        text = f.read()
    text = text.replace('from flows import keys\n',
                        'from taskflow.patterns import linear_flow\n\n'
                        'from flows import base\nfrom flows import '
                        'evolution\nfrom flows import keys\n')
    text = text.replace(
        'RESUME_POLICY = keys.RESUME\n',
        'RESUME_POLICY = keys.RESUME\nFLOW_VERSION = 2\nUPGRADES = (\n'
        "    evolution.AddedStep(2, name='flows.stop.CheckStillOwned'),\n"
        ')\n')
    head = text[:text.index('\n\ndef get_flow():')]
    with open(path, 'w') as f:
        f.write(head + '\n' + ADDED_STEP)


def _pytest(root, args, env=None):
    env = dict(os.environ, **(env or {}))
    env.pop('PYTHONPATH', None)
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-n', '0', '-q',
         '-p', 'no:cacheprovider'] + args,
        cwd=root, env=env, capture_output=True, text=True)


def demonstrate(root):
    """Change the copy at ``root`` and check it; the problems found."""
    found = []
    print('moved flows/tasks/power.py; %d files import it anew'
          % move_power_module(root))
    add_stop_step(root)
    gone = subprocess.run(
        [sys.executable, '-c', 'import flows.tasks.power'], cwd=root,
        capture_output=True)
    if gone.returncode == 0:
        found.append('flows.tasks.power still imports in the copy')
    golden = _pytest(root, ['tests/golden'])
    print('golden test without regenerating: %s'
          % golden.stdout.strip().splitlines()[-1])
    if golden.returncode == 0:
        found.append('the golden test passed a changed flow')
    resumed = _pytest(root, ['tests/logbooks',
                             'tests/unit/conductor/test_flow_upgrades.py'],
                      env={'LOGBOOKS_ALL': '1'})
    print('resume of every snapshot with the changed code: %s'
          % resumed.stdout.strip().splitlines()[-1])
    if resumed.returncode != 0:
        found.append(resumed.stdout[-6000:])
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--keep', help='make the copy here and keep it')
    args = parser.parse_args(argv)
    root = args.keep or tempfile.mkdtemp(prefix='evolution-demo-')
    try:
        copy_tree(root)
        found = demonstrate(root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if found:
        print('\n'.join(found))
        return 1
    print('every snapshot resumed with the step class moved and a step '
          'added')
    return 0


if __name__ == '__main__':
    sys.exit(main())
