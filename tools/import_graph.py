"""The module-level import graph of our packages, and its cycles.

    python -m tools.import_graph            # cycles (exit 1 if any)
    python -m tools.import_graph --edges    # every module and its imports
    python -m tools.import_graph --dot      # Graphviz of the graph
    make import-graph

Only imports that run when a module is imported count: statements at
module level, including those inside a module-level ``if``/``try``/
``with`` (not those in a function or a class body's methods, which run
later; ``--deferred`` counts those too, to show what a module reaches
once its functions run). ``import a.b.c`` and ``from a.b import c`` make
an edge to ``a.b.c``; ``from a.b import name`` (not a module) an edge to
``a.b``. The packages enclosing a module, which Python imports first
whatever the module says, are no edges (as in import-linter): a
package's ``__init__`` importing its own submodules is no cycle. Imports
of modules outside the scanned packages are left out. Read with
:mod:`ast` only: nothing is imported.

A cycle is a strongly connected component of more than one module (or a
module importing itself): every module in it is reachable from every
other, so the order they are first imported in decides which of them
sees the others half-initialised.
"""

import argparse
import ast
import os
import sys

#: The packages checked by default (top-level directories of the repo).
DEFAULT_PACKAGES = ('orchestrator', 'flows')

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_modules(root, packages):
    """{module name: file path} of every module in ``packages``."""
    modules = {}
    for package in packages:
        top = os.path.join(root, package)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames
                                 if d != '__pycache__'
                                 and not d.startswith('.'))
            if '__init__.py' not in filenames:
                # Not a package (alembic's versions/, data directories).
                dirnames[:] = []
                continue
            rel = os.path.relpath(dirpath, root)
            prefix = rel.replace(os.sep, '.')
            for filename in sorted(filenames):
                if not filename.endswith('.py'):
                    continue
                path = os.path.join(dirpath, filename)
                if filename == '__init__.py':
                    modules[prefix] = path
                else:
                    modules[prefix + '.' + filename[:-3]] = path
    return modules


def _module_level_imports(tree, deferred=False):
    """Import nodes executed when the module is imported (with
    ``deferred``, every import node of the module)."""
    if deferred:
        yield from (node for node in ast.walk(tree)
                    if isinstance(node, (ast.Import, ast.ImportFrom)))
        return
    pending = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                               ast.Lambda)):
            continue
        elif isinstance(node, ast.ClassDef):
            # A class body runs at import; its methods do not.
            pending.extend(node.body)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For,
                               ast.While)):
            for field in ('body', 'orelse', 'finalbody'):
                pending.extend(getattr(node, field, []) or [])
            for handler in getattr(node, 'handlers', []) or []:
                pending.extend(handler.body)
        elif hasattr(ast, 'TryStar') and isinstance(node, ast.TryStar):
            pending.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                pending.extend(handler.body)


def _resolve_from(module, path, node):
    """The absolute module a ``from ... import`` statement names."""
    if not node.level:
        return node.module
    package = module if path.endswith('__init__.py') else (
        module.rpartition('.')[0])
    for _ in range(node.level - 1):
        package = package.rpartition('.')[0]
    return package + ('.' + node.module if node.module else '')


def imports_of(module, path, modules, deferred=False):
    """The set of our modules ``module`` imports at module level (with
    ``deferred``, anywhere in it)."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    targets = set()
    for node in _module_level_imports(tree, deferred):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names
                           if alias.name in modules)
            continue
        base = _resolve_from(module, path, node)
        for alias in node.names:
            if alias.name != '*' and base + '.' + alias.name in modules:
                targets.add(base + '.' + alias.name)
            elif base in modules:
                targets.add(base)
    return targets


def build_graph(root=ROOT, packages=DEFAULT_PACKAGES, deferred=False):
    """{module: sorted list of our modules it imports at module level
    (with ``deferred``, anywhere)}."""
    modules = find_modules(root, packages)
    return {name: sorted(imports_of(name, path, modules, deferred))
            for name, path in sorted(modules.items())}


def strongly_connected(graph):
    """The strongly connected components of ``graph`` (Tarjan,
    iterative), each a sorted list."""
    index, low, on_stack = {}, {}, set()
    stack, components, counter = [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def cycles(graph):
    """The import cycles: components of more than one module, or of one
    module importing itself; largest first."""
    found = [c for c in strongly_connected(graph)
             if len(c) > 1 or c[0] in graph.get(c[0], ())]
    return sorted(found, key=lambda c: (-len(c), c))


def example_cycle(graph, component):
    """One concrete cycle through the component's first module, as a
    list of modules ending where it started (breadth-first: shortest)."""
    members = set(component)
    start = component[0]
    previous = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in graph.get(node, ()):
            if child not in members:
                continue
            if child == start:
                path = [node]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return list(reversed(path)) + [start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start, start]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m tools.import_graph',
        description='Module-level import graph of our packages; exits 1 '
                    'when it has a cycle.')
    parser.add_argument('packages', nargs='*', default=DEFAULT_PACKAGES,
                        help='top-level packages (default: %s)'
                        % ' '.join(DEFAULT_PACKAGES))
    parser.add_argument('--edges', action='store_true',
                        help='print every module and what it imports')
    parser.add_argument('--dot', action='store_true',
                        help='print the graph in Graphviz dot')
    parser.add_argument('--deferred', action='store_true',
                        help='count imports inside functions too')
    args = parser.parse_args(argv)
    graph = build_graph(ROOT, tuple(args.packages), args.deferred)
    found = cycles(graph)
    if args.dot:
        in_cycle = {m for c in found for m in c}
        print('digraph imports {')
        for module, targets in graph.items():
            style = ' [color=red]' if module in in_cycle else ''
            print('  "%s"%s;' % (module, style))
            for target in targets:
                print('  "%s" -> "%s";' % (module, target))
        print('}')
    elif args.edges:
        for module, targets in graph.items():
            print('%s: %s' % (module, ' '.join(targets)))
    edges = sum(len(t) for t in graph.values())
    out = sys.stderr if args.dot else sys.stdout
    print('%d modules, %d %simports between them, %d cycle(s)'
          % (len(graph), edges,
             '' if args.deferred else 'module-level ', len(found)),
          file=out)
    for component in found:
        print('cycle of %d modules: %s' % (len(component),
                                           ' '.join(component)), file=out)
        print('  e.g. %s' % ' -> '.join(example_cycle(graph, component)),
              file=out)
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
