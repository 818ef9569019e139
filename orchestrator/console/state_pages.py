"""The console's state rules page, from :mod:`orchestrator.state_machine`
(the source :mod:`orchestrator.state_docs` renders for the docs): every
vm_state and task_state, the vm_state machine's transitions, each
action's allowed (vm_state, task_state) pairs and the machine as
Graphviz dot. Nothing here depends on the database.
"""

from orchestrator import state_docs
from orchestrator import state_machine
from orchestrator import states


def _allowed(action):
    """The (vm_state, task_state) pairs ``action`` may start from; a
    task_state ``'*'`` means any (the action preempts the task)."""
    tasks = sorted(action.task_states, key=lambda t: (t is not None,
                                                      t or ''))
    return [{'vm_state': vm, 'task_state': task}
            for vm in sorted(action.vm_states) for task in tasks]


def states_page():
    """{'vm_states', 'task_states', 'transitions', 'actions', 'dot'}."""
    return {
        'vm_states': sorted(states.VM_STATES),
        'task_states': sorted(states.TASK_STATES),
        'transitions': [{'from': src, 'to': dst, 'action': event}
                        for src, dst, event in sorted(state_machine.edges())],
        'actions': [{'action': name,
                     'allowed': _allowed(state_machine.ACTIONS[name])}
                    for name in sorted(state_machine.ACTIONS)],
        'dot': state_docs.render_dot(),
    }
