"""A flow's steps (the console API's NODE tree) for the terminal.

A NODE is ``{"kind": "linear"|"unordered"|"graph"|"task"|"retry",
"name", "state", "attempts", "duration_s", "failure", "retry",
"children"}`` (see the console API contract): patterns hold steps,
tasks and retries have a state. :func:`render` makes a rich
:class:`~rich.tree.Tree` of it, each step coloured by its state with its
duration, attempts and failure; :func:`current_step` and
:func:`fraction_done` summarise it for a progress display.
"""

from rich.text import Text
from rich.tree import Tree

from orchestrator.cli import output

STEP_KINDS = ('task', 'retry')
#: Step states in which a step is at work.
ACTIVE_STATES = ('running', 'reverting')
#: Step states in which a step has nothing more to do in this direction.
DONE_STATES = ('success', 'failure', 'reverted', 'revert_failure',
               'ignore')
FAILED_STATES = ('failure', 'revert_failure')
ICONS = {'pending': '·', 'running': '▶', 'success': '✔', 'failure': '✘',
         'reverting': '↺', 'reverted': '↩', 'revert_failure': '✘',
         'ignore': '–'}
PATTERN_LABELS = {'linear': 'in order', 'unordered': 'in parallel',
                  'graph': 'graph'}


def state_of(node):
    """A step's state in lower case ('pending' when it has none); the
    contract's states are TaskFlow's, which TaskFlow spells in capitals."""
    return (node.get('state') or 'pending').lower()


def seconds(value):
    """A duration for people: 0.42s, 12.3s, 2m03s; '' for None."""
    if value is None:
        return ''
    if value < 10:
        return '%.2fs' % value
    if value < 60:
        return '%.1fs' % value
    minutes, rest = divmod(int(round(value)), 60)
    return '%dm%02ds' % (minutes, rest)


def steps(node):
    """The tasks and retries of ``node``, depth first in the order the
    tree lists them (a sub-flow's retry before its children)."""
    if node is None:
        return
    if node.get('kind') in STEP_KINDS:
        yield node
    if node.get('retry'):
        yield from steps(node['retry'])
    for child in node.get('children') or ():
        yield from steps(child)


def current_step(node):
    """What the flow is doing: the first step at work ('name (state)'),
    else the first failed one, else the last finished one while others
    wait ('after name'); '' when nothing ran yet or all is done."""
    all_steps = list(steps(node))
    for wanted in (ACTIVE_STATES, FAILED_STATES):
        for step in all_steps:
            if state_of(step) in wanted:
                return '%s (%s)' % (step['name'], state_of(step))
    done = [s for s in all_steps if state_of(s) in DONE_STATES]
    if done and len(done) < len(all_steps):
        return 'after %s' % done[-1]['name']
    return ''


def fraction_done(node):
    """Finished steps / all steps (0.0 for a tree without steps)."""
    all_steps = list(steps(node))
    if not all_steps:
        return 0.0
    return sum(1 for s in all_steps
               if state_of(s) in DONE_STATES) / len(all_steps)


def step_label(node):
    """One line for a task or retry: icon, name, state, duration,
    attempts."""
    state = state_of(node)
    style = output.STATE_STYLES.get(state, '')
    label = Text()
    label.append('%s ' % ICONS.get(state, '?'), style=style)
    if node.get('kind') == 'retry':
        label.append('retry ', style='italic')
    label.append(node.get('name') or '?', style='bold')
    label.append('  ')
    label.append(state, style=style)
    if node.get('duration_s') is not None:
        label.append('  %s' % seconds(node['duration_s']), style='dim')
    attempts = node.get('attempts')
    if attempts is not None and (attempts > 1 or
                                 node.get('kind') == 'retry'):
        label.append('  attempts %d' % attempts, style='yellow')
    return label


def _pattern_label(node):
    label = Text()
    label.append(PATTERN_LABELS.get(node.get('kind'), node.get('kind')
                                    or '?'), style='dim')
    label.append(' %s' % (node.get('name') or ''), style='dim bold')
    return label


def _add(tree, node):
    if node.get('kind') in STEP_KINDS:
        branch = tree.add(step_label(node))
        if node.get('failure'):
            branch.add(Text(node['failure'], style='red'))
        return
    branch = tree.add(_pattern_label(node))
    if node.get('retry'):
        _add(branch, node['retry'])
    for child in node.get('children') or ():
        _add(branch, child)


def header(flow):
    """The first line of a flow: name, state, uuid, its server."""
    label = Text()
    label.append(flow.get('name') or '?', style='bold')
    label.append('  ')
    label.append(flow.get('state') or '?',
                 style=output.STATE_STYLES.get(flow.get('state'), ''))
    label.append('  %s' % flow.get('uuid'), style='dim')
    if flow.get('instance'):
        label.append('  server %s (%s)' % (flow.get('instance_name') or '',
                                           flow['instance']))
    return label


def render(flow):
    """The flow (the console API's ``flow``) as a rich tree."""
    tree = Tree(header(flow))
    root = flow.get('tree')
    if root is not None:
        _add(tree, root)
    return tree
