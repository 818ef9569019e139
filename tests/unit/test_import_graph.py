"""The orchestrator and flows packages import each other without a cycle
(module-level imports, read with ast by :mod:`tools.import_graph`)."""

import textwrap

from tools import import_graph


def _tree(tmp_path, files):
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_orchestrator_and_flows_have_no_module_level_cycle():
    graph = import_graph.build_graph()
    assert 'flows.catalog' in graph and 'orchestrator.failpoints' in graph
    assert import_graph.cycles(graph) == []


def test_no_flow_module_or_failpoints_is_in_a_cycle_even_through_functions():
    # The cycle of 41 modules that failpoints' listing closed (it
    # imported the conductor's and the compute manager inside a
    # function) must not come back by a deferred import either.
    graph = import_graph.build_graph(deferred=True)
    for cycle in import_graph.cycles(graph):
        assert not [m for m in cycle
                    if m.startswith(('flows', 'orchestrator.conductor'))
                    or m == 'orchestrator.failpoints'], cycle


def test_failpoints_and_the_step_base_import_nothing_of_the_conductor():
    graph = import_graph.build_graph(deferred=True)
    for module in ('orchestrator.failpoints', 'flows.base', 'flows.atoms'):
        assert not [m for m in graph[module]
                    if m.startswith(('orchestrator.conductor',
                                     'orchestrator.compute.manager',
                                     'flows.catalog'))], module


def test_a_cycle_is_found_and_fails_the_command(tmp_path, capsys,
                                                monkeypatch):
    root = _tree(tmp_path, {
        'pkg/__init__.py': 'from pkg import a  # the package: no edge in\n',
        'pkg/a.py': 'from pkg import b\n',
        'pkg/b.py': 'import os\nfrom pkg.c import thing\n',
        'pkg/c.py': 'from . import a\nthing = 1\n',
        'pkg/d.py': 'def later():\n    from pkg import e\n',
        'pkg/e.py': 'from pkg import d\n',
        'pkg/data/x.py': 'import pkg.a\n',  # not a package: skipped
    })
    graph = import_graph.build_graph(str(root), ('pkg',))
    assert graph['pkg.b'] == ['pkg.c']
    assert graph['pkg.c'] == ['pkg.a']  # relative import resolved
    assert 'pkg.data.x' not in graph
    assert import_graph.cycles(graph) == [['pkg.a', 'pkg.b', 'pkg.c']]
    assert import_graph.example_cycle(graph, ['pkg.a', 'pkg.b', 'pkg.c']) \
        == ['pkg.a', 'pkg.b', 'pkg.c', 'pkg.a']
    # d imports e only when later() runs: a cycle only with --deferred.
    deferred = import_graph.build_graph(str(root), ('pkg',), deferred=True)
    assert ['pkg.d', 'pkg.e'] in import_graph.cycles(deferred)

    monkeypatch.setattr(import_graph, 'ROOT', str(root))
    assert import_graph.main(['pkg']) == 1
    out = capsys.readouterr().out
    assert '1 cycle(s)' in out
    assert 'pkg.a -> pkg.b -> pkg.c -> pkg.a' in out


def test_the_command_passes_on_our_packages(capsys):
    assert import_graph.main([]) == 0
    assert ', 0 cycle(s)' in capsys.readouterr().out
