"""Atom names and the walk over a flow's atoms: the primitives.

Read them through :mod:`flows.catalog` (which re-exports them); they
live here, in a module that imports nothing of ours, because the step
base class (:mod:`flows.base`) and :mod:`orchestrator.failpoints`, which
every flow module imports, need them too and :mod:`flows.catalog`
imports every flow module.
"""

from taskflow import flow as tf_flow


def short_name(atom_name):
    """A step's short name: its class name, without the module
    (``flows.tasks.power.ChangePowerOnHost`` -> ``ChangePowerOnHost``).
    The name failpoints, audit events, resume policies and operators'
    views use; a name without dots is its own short name."""
    return atom_name.rsplit('.', 1)[-1]


def atoms_of(flow, retries=False):
    """Every atom of ``flow``, nested flows included, in order.

    With ``retries``, a (sub)flow's retry controller comes before the
    flow's own atoms (the order a run records them in).
    """
    if retries and getattr(flow, 'retry', None) is not None:
        yield flow.retry
    for node, _meta in flow.iter_nodes():
        if isinstance(node, tf_flow.Flow):
            yield from atoms_of(node, retries)
        else:
            yield node


def atom_names(flow, retries=False):
    """The names of :func:`atoms_of` ``flow``, in order."""
    return [atom.name for atom in atoms_of(flow, retries)]
