"""module_utils packages form layers: a package imports only from its own layer or lower ones."""

import ast
import os

from support.collection import REPO

MODULE_UTILS = os.path.join(REPO, "plugins", "module_utils")
PREFIX = "ansible_collections.vaultops.recovery.plugins.module_utils."
# lower number = lower layer; packages of one layer do not import each other
LAYERS = {
    "common": 0,
    "cloud": 1,
    "openpgp": 1,
    "k8s": 1,
    "postgres": 2,
    "path_archive": 2,
    "swtpm": 2,
    "s3": 2,
    "recovery_set": 3,
    "vaulthalla": 4,
    "institutional_vault": 4,
}


def _imports(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            parts = node.module[len(PREFIX):].split(".")
            yield parts[0], (parts[1] if len(parts) > 1 else None), [a.name for a in node.names]


def _sources():
    for package in sorted(os.listdir(MODULE_UTILS)):
        directory = os.path.join(MODULE_UTILS, package)
        if os.path.isdir(directory) and package != "__pycache__":
            for name in sorted(os.listdir(directory)):
                if name.endswith(".py"):
                    yield package, name[:-3], os.path.join(directory, name)


def test_no_flat_files_left():
    flat = [n for n in os.listdir(MODULE_UTILS) if n.endswith(".py") and n != "__init__.py"]
    assert flat == []


def test_every_package_has_a_layer():
    packages = {package for package, _name, _path in _sources()}
    assert packages == set(LAYERS)


def test_packages_import_only_their_own_layer_or_lower():
    wrong = []
    for package, name, path in _sources():
        for target, _module, _names in _imports(path):
            if target != package and LAYERS[target] >= LAYERS[package]:
                wrong.append("%s/%s imports %s" % (package, name, target))
    assert wrong == []


def test_import_graph_is_acyclic():
    graph = {}
    for package, name, path in _sources():
        edges = graph.setdefault((package, name), set())
        for target, module, names in _imports(path):
            edges.update((target, n) for n in ([module] if module else names))
    state = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import cycle: %s" % " -> ".join("/".join(n) for n in trail + [node])
        state[node] = "open"
        for nxt in graph.get(node, ()):
            visit(nxt, trail + [node])
        state[node] = "done"

    for node in graph:
        visit(node, [])
