"""How a flow's persisted shape changes without stranding logbooks.

A logbook in flight when a release is upgraded is resumed by the next
release's code: TaskFlow rebuilds the flow from its factory and finds
each atom's progress by the atom's name. A flow module that changes the
shape of its flow (an atom renamed, a step added or removed) declares:

* ``FLOW_VERSION``: an integer, 1 when absent, raised by each change;
* ``UPGRADES``: the changes, each an :class:`Upgrade` naming the version
  it brings (``to_version``).

A flow detail records the version it was posted with (in its meta,
``flow_version``; absent: 1). When a conductor loads a logbook older
than its flow (:mod:`orchestrator.conductor.flow_upgrades`), it applies
the upgrades above the logbook's version in order, and always points the
flow detail's factory at the catalogue's module for the flow's name (a
flow module that moved keeps its logbooks). Moving a step class needs no
upgrade: its atom name is its declared ``persisted_name``. The rules for
contributors are in docs/evolution.md.
"""

import dataclasses
import uuid

from taskflow.persistence import models as tf_models
from taskflow import states as tf_states

#: The meta key of the version a flow detail was posted with.
META_KEY = 'flow_version'
#: Prefix of the name a removed step's atom detail is kept under.
REMOVED_PREFIX = 'removed:'

_UNDONE = (tf_states.REVERTING, tf_states.REVERTED, tf_states.REVERT_FAILURE)


def flow_version(flow_module):
    """The version of ``flow_module``'s flow (its FLOW_VERSION, or 1)."""
    return getattr(flow_module, 'FLOW_VERSION', 1)


def logbook_version(flow_detail):
    """The version ``flow_detail`` was posted with (1 when unrecorded)."""
    return (flow_detail.meta or {}).get(META_KEY, 1)


@dataclasses.dataclass(frozen=True)
class Upgrade:
    """One change of a flow's shape, brought by version ``to_version``."""

    to_version: int

    def apply(self, flow_detail, order):
        """Change ``flow_detail`` (TaskFlow models) in place; ``order``
        is the new flow's atom names in order. Returns a sentence saying
        what changed, or None."""
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class RenamedAtom(Upgrade):
    """An atom persisted as ``old`` is now named ``new``."""

    old: str = None
    new: str = None

    def apply(self, flow_detail, order):
        found = _find(flow_detail, self.old)
        if found is None or _find(flow_detail, self.new) is not None:
            return None
        _rename(found, self.new)
        return 'atom %s renamed %s' % (self.old, self.new)


@dataclasses.dataclass(frozen=True)
class AddedStep(Upgrade):
    """A step ``name`` was added. A logbook whose flow already ran an atom
    after it records the new step as done (SUCCESS, result ``result``),
    or as reverted when the flow is rolling back, so TaskFlow never runs
    it out of order; its revert must be safe when its execute never ran
    (every step's contract). A logbook not yet past it runs it in order.
    """

    name: str = None
    result: object = None

    def apply(self, flow_detail, order):
        if _find(flow_detail, self.name) is not None:
            return None
        later = order[order.index(self.name) + 1:]
        states = [ad.state for ad in flow_detail if ad.name in later]
        if not any(s not in (None, tf_states.PENDING) for s in states):
            return None
        detail = tf_models.TaskDetail(self.name, str(uuid.uuid4()))
        undone = (flow_detail.state in _UNDONE
                  or any(s in _UNDONE for s in states))
        detail.state = tf_states.REVERTED if undone else tf_states.SUCCESS
        detail.intention = (tf_states.REVERT if undone
                            else tf_states.EXECUTE)
        detail.results = self.result
        flow_detail.add(detail)
        return 'step %s recorded %s' % (self.name, detail.state)


@dataclasses.dataclass(frozen=True)
class RemovedStep(Upgrade):
    """The step ``name`` was removed: its atom detail is kept, inert,
    under ``removed:<name>`` (TaskFlow ignores atoms its flow lacks; the
    rename keeps a later step of the same name from inheriting it)."""

    name: str = None

    def apply(self, flow_detail, order):
        found = _find(flow_detail, self.name)
        if found is None:
            return None
        _rename(found, REMOVED_PREFIX + self.name)
        return 'step %s removed' % self.name


def _rename(atom_detail, name):
    # NOTE: TaskFlow's AtomDetail has no setter for its name (the SQL
    # persistence writes the column like any other).
    atom_detail._name = name


def _find(flow_detail, name):
    for atom_detail in flow_detail:
        if atom_detail.name == name:
            return atom_detail
    return None


def factory_name(flow_module):
    """The factory a flow detail of ``flow_module`` is rebuilt with."""
    return '%s.get_flow' % flow_module.__name__


def upgrade(flow_detail, flow_module, order):
    """Bring ``flow_detail`` (posted by an older release) to
    ``flow_module``'s shape: its factory is the module's, the upgrades
    above its version are applied in order and its version recorded.

    :param order: the flow's atom names in order (the golden walk).
    :returns: the sentences of what changed (empty: nothing).
    """
    done = []
    factory = flow_detail.meta.setdefault('factory', {})
    if factory.get('name') != factory_name(flow_module):
        done.append('factory %s is now %s' % (factory.get('name'),
                                              factory_name(flow_module)))
        factory.update(name=factory_name(flow_module), args=[], kwargs={})
    old = logbook_version(flow_detail)
    current = flow_version(flow_module)
    if old > current:
        raise ValueError('flow %s of version %s is newer than this code '
                         '(%s): a release may not be downgraded with flows '
                         'in flight' % (flow_detail.name, old, current))
    for step in sorted(getattr(flow_module, 'UPGRADES', ()),
                       key=lambda u: u.to_version):
        if old < step.to_version <= current:
            what = step.apply(flow_detail, order)
            if what:
                done.append(what)
    if old != current:
        flow_detail.meta[META_KEY] = current
        done.append('version %s -> %s' % (old, current))
    return done
