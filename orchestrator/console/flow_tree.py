"""A flow's composition as TaskFlow builds it, with each step's progress.

:func:`tree` rebuilds the flow from its factory (the catalogue's module of
the flow's name, as a conductor or a repair loads it) and walks its
patterns: a linear, unordered or graph flow is a node whose children are
its nodes in TaskFlow's order; a sub-flow's retry controller is its
``retry``; a task or a retry is a leaf with the state and intention its
atom detail has in the logbook, and its timing and attempts from the
audit trail (the instance action's events, see
:mod:`orchestrator.conductor.audit` for their names).

When the factory cannot be rebuilt (a flow name no module has, an older
shape whose steps the module no longer has), the tree is one linear node
of the logbook's steps, in the order they were saved: something to show,
never an error.

Node (a dict)::

    {kind: linear|unordered|graph|task|retry, name, state, intention,
     attempts, start, finish, duration_s, failure, retry, children}

``state`` and ``intention`` are TaskFlow's in lower case (pending,
running, success, failure, reverting, reverted, revert_failure, ignore;
execute, revert, ...), None for patterns; ``start``/``finish``
of a step are its first run's start and its last event's end (None while
that event is open), of a pattern its children's earliest start and
latest end (None while one of them started and has not ended).
``failure`` is one line anyone may read (:func:`orchestrator.redaction.
public_message`); tracebacks stay in the instance action's events.
"""

import datetime

from taskflow import flow as tf_flow
from taskflow.patterns import graph_flow
from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow
from taskflow.persistence import models as tf_models
from taskflow import retry as tf_retry

from orchestrator import redaction
from orchestrator import flow_index

from flows import catalog

_KINDS = ((graph_flow.Flow, 'graph'), (unordered_flow.Flow, 'unordered'),
          (linear_flow.Flow, 'linear'))


def parse_event(name):
    """(step, revert?, attempt) of an audit event's name
    (``<step>[:revert][ (attempt N)]``)."""
    base, _sep, attempt = name.partition(' (attempt ')
    number = 1
    if attempt.endswith(')') and attempt[:-1].isdigit():
        number = int(attempt[:-1])
    step, _sep, kind = base.partition(':')
    return step, kind == 'revert', number


def events_by_step(events):
    """{step short name: [event dicts, in the order they started]}."""
    out = {}
    for event in events:
        step, _revert, _attempt = parse_event(event['event'])
        out.setdefault(step, []).append(event)
    return out


def _started(event):
    return event.get('start_time') or event.get('created_at')


def _seconds(start, finish):
    if start is None or finish is None:
        return None
    return max(0.0, (finish - start).total_seconds())


def _lower(value):
    return value.lower() if value else None


def _failure_line(atom):
    failure = atom.failure or atom.revert_failure
    if failure is None:
        return None
    return redaction.public_message(failure.exception_str, tuple(failure))


def _timing(step_events):
    """(start, finish) of a step from its events."""
    if not step_events:
        return None, None
    ordered = sorted(step_events, key=lambda e: (
        _started(e) or datetime.datetime.min, e.get('id') or 0))
    runs = [e for e in ordered if not parse_event(e['event'])[1]]
    start = _started((runs or ordered)[0])
    return start, ordered[-1].get('finish_time')


def _leaf(kind, name, atom, step_events):
    start, finish = _timing(step_events)
    # A task's runs are its run events (one per attempt of a retried
    # sub-flow); a retry's are its history, which TaskFlow empties when
    # it reverts, and its run events.
    runs = sum(1 for e in step_events or ()
               if not parse_event(e['event'])[1])
    attempts = runs if step_events or atom is not None else None
    if kind == 'retry' and atom is not None:
        attempts = max(runs, len(atom.results or []))
    return {'kind': kind, 'name': catalog.short_name(name),
            'state': _lower(atom.state) if atom is not None else None,
            'intention': _lower(atom.intention) if atom is not None
            else None,
            'attempts': attempts, 'start': start, 'finish': finish,
            'duration_s': _seconds(start, finish),
            'failure': _failure_line(atom) if atom is not None else None,
            'retry': None, 'children': []}


def _pattern(kind, name, children, retry_node):
    timed = [n for n in children + ([retry_node] if retry_node else [])
             if n['start'] is not None]
    start = min((n['start'] for n in timed), default=None)
    finish = None
    if timed and all(n['finish'] is not None for n in timed):
        finish = max(n['finish'] for n in timed)
    return {'kind': kind, 'name': catalog.short_name(name), 'state': None,
            'intention': None, 'attempts': None, 'start': start,
            'finish': finish, 'duration_s': _seconds(start, finish),
            'failure': None, 'retry': retry_node, 'children': children}


def _kind(pattern):
    for cls, kind in _KINDS:
        if isinstance(pattern, cls):
            return kind
    return 'linear'


def _walk(pattern, atoms_by_name, steps):
    retry_node = None
    if getattr(pattern, 'retry', None) is not None:
        retry = pattern.retry
        retry_node = _leaf('retry', retry.name, atoms_by_name.get(
            retry.name), steps.get(catalog.short_name(retry.name)))
    children = []
    for node, _meta in pattern.iter_nodes():
        if isinstance(node, tf_flow.Flow):
            children.append(_walk(node, atoms_by_name, steps))
        else:
            kind = 'retry' if isinstance(node, tf_retry.Retry) else 'task'
            children.append(_leaf(kind, node.name, atoms_by_name.get(
                node.name), steps.get(catalog.short_name(node.name))))
    return _pattern(_kind(pattern), pattern.name, children, retry_node)


def _rebuilt(flow_name):
    """The flow of ``flow_name`` from its factory, or None."""
    module = catalog.by_flow_name(flow_name)
    if module is None:
        return None
    try:
        return module.get_flow()
    except Exception:  # noqa: BLE001 - an unbuildable flow shows flat
        return None


def _flat(flow_name, atoms, steps):
    children = []
    for atom in atoms:
        if not flow_index.is_step(atom.name):
            continue
        kind = 'retry' if isinstance(atom, tf_models.RetryDetail) \
            else 'task'
        children.append(_leaf(kind, atom.name, atom,
                              steps.get(catalog.short_name(atom.name))))
    return _pattern('linear', flow_name, children, None)


def tree(flow_name, atoms, events):
    """The tree (root node) of a flow named ``flow_name``.

    :param atoms: its atom details from the logbook (TaskFlow models).
    :param events: its instance action's events
        (:func:`orchestrator.db.actions.events_for`; [] when none).
    """
    flow = _rebuilt(flow_name)
    if flow is not None:
        known = set(catalog.atom_names(flow, retries=True))
        if all(a.name in known for a in atoms if flow_index.is_step(a.name)):
            return composed(flow, atoms, events)
    return _flat(flow_name, atoms, events_by_step(events))


def composed(flow, atoms, events):
    """The tree of the TaskFlow flow ``flow`` (its patterns as built),
    with the progress of ``atoms`` and ``events`` (as :func:`tree`)."""
    return _walk(flow, {a.name: a for a in atoms}, events_by_step(events))


def iso_times(node, iso):
    """``node`` (and its descendants) with start/finish made strings by
    ``iso`` (a copy)."""
    out = dict(node, start=iso(node['start']), finish=iso(node['finish']))
    out['retry'] = iso_times(node['retry'], iso) if node['retry'] else None
    out['children'] = [iso_times(child, iso) for child in node['children']]
    return out
