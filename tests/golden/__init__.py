"""The golden file of persisted names: every flow's name, its atoms in
order and what each requires and provides (``flows.json``).

These names are in every logbook in flight: a change to them breaks the
flows an upgrade finds running unless it is planned (docs/evolution.md).
``python -m tests.golden.regenerate`` rewrites the file, for a planned
change only.
"""

import json
import os

from taskflow import flow as tf_flow

from flows import catalog

GOLDEN_PATH = os.path.join(os.path.dirname(__file__), 'flows.json')


def _atom(atom, kind, in_flow):
    return {'name': atom.name, 'kind': kind, 'in_flow': in_flow,
            'requires': sorted(atom.requires),
            'optional': sorted(getattr(atom, 'optional', ()) or ()),
            'provides': sorted(atom.provides)}


def walk_atoms(flow):
    """(atom, 'task' or 'retry', name of the (sub)flow holding it) for
    every atom of ``flow`` in a stable order: a (sub)flow's retry before
    its atoms, the atoms in the order the flow holds them, nested flows
    in place."""
    if flow.retry is not None:
        yield flow.retry, 'retry', flow.name
    for node, _meta in flow.iter_nodes():
        if isinstance(node, tf_flow.Flow):
            yield from walk_atoms(node)
        else:
            yield node, 'task', flow.name


def walk(flow):
    """The atoms of ``flow`` as dicts (:func:`walk_atoms`'s order)."""
    return [_atom(atom, kind, in_flow)
            for atom, kind, in_flow in walk_atoms(flow)]


def describe_flows():
    """{flow name: {'module', 'atoms'}} for every flow of the catalogue."""
    out = {}
    for module in catalog.all_flow_modules():
        flow = module.get_flow()
        out[flow.name] = {'module': module.__name__,
                          'resume_policy': module.RESUME_POLICY,
                          'atoms': walk(flow)}
    return out


def dumps(described):
    return json.dumps(described, indent=1, sort_keys=True) + '\n'


def load():
    with open(GOLDEN_PATH) as f:
        return json.load(f)
