"""The apps' floors hold (issue #14): no import reaches up a layer, no two apps import each other,
and the project imports hidden inside functions are the few listed below, each with its reason.

Layers, bottom up: `madansara` core -> `madansara.contacts` -> `madansara.channels` -> the platform
services built on channels (notifications, outbound webhooks) -> the domain apps. The modules that
assemble the project (settings, URLs, WSGI/ASGI, Celery) sit above everything. Tests and migrations
may import anything. The exception lists may only shrink: an entry that no longer matches fails.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "madansara": 0,
    "madansara.contacts": 1,
    "madansara.channels": 2,
    "madansara.notifications": 3,
    "madansara.webhooks_out": 3,
    **dict.fromkeys(
        ("outreach", "conversion", "abtesting", "inbox", "website", "social", "bestpractices", "agents"), 4
    ),
}
PROJECT_MODULES = {"madansara.settings", "madansara.urls", "madansara.wsgi", "madansara.asgi", "madansara.celery"}
SKIPPED_PARTS = {"tests", "migrations"}

# (app, app) in name order: why two domain apps still import each other (none left).
ALLOWED_CYCLES: dict[tuple[str, str], str] = {}

# "path/to/module.py imported.module": why the import must happen inside a function.
ALLOWED_INNER: dict[str, str] = {
    "madansara/observability.py madansara": "the logging config loads this module before the apps (views) exist",
    "madansara/metrics.py madansara.celery": "the Celery app imports this module at start-up (worker counters)",
}


def _app_of(module: str) -> str | None:
    matches = [app for app in LAYERS if module == app or module.startswith(app + ".")]
    return max(matches, key=len) if matches else None


def _modules():
    for app in {app.split(".")[0] for app in LAYERS}:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if SKIPPED_PARTS & set(relative.parts):
                continue
            name = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
            yield relative, name, ast.parse(path.read_text(), filename=str(relative))


def _imports():
    """(path, module, imported module, inside a function or class?) for every project import."""
    found = []
    for relative, module, tree in _modules():
        nested = {id(node) for scope in ast.walk(tree) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef,
                  ast.ClassDef)) for node in ast.walk(scope) if node is not scope}  # fmt: skip
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            found += [(str(relative), module, name, id(node) in nested) for name in names if _app_of(name)]
    return found


def _app_edges():
    edges = defaultdict(set)
    for path, module, imported, _ in _imports():
        source, target = _app_of(module), _app_of(imported)
        if module not in PROJECT_MODULES and source and target and source != target:
            edges[(source, target)].add(f"{path} {imported}")
    return edges


def test_no_import_reaches_up_a_layer():
    upward = {
        f"{source} -> {target}": sorted(where)
        for (source, target), where in _app_edges().items()
        if LAYERS[target] > LAYERS[source]
    }
    assert upward == {}, "move the shared code down, or announce with a signal the layer above listens to"


def test_no_two_apps_import_each_other():
    edges = _app_edges()
    cycles = {(a, b) for a, b in edges if (b, a) in edges and a < b}
    unexplained = {f"{a} <-> {b}": sorted(edges[(a, b)] | edges[(b, a)]) for a, b in cycles}
    unexplained = {k: v for k, v in unexplained.items() if tuple(k.split(" <-> ")) not in ALLOWED_CYCLES}
    assert unexplained == {}, "one direction must go: a documented service of the lower app, or a signal"
    stale = {pair for pair in ALLOWED_CYCLES if pair not in cycles}
    assert stale == set(), "these cycles are gone: remove them from ALLOWED_CYCLES"


def test_project_imports_inside_functions_are_the_listed_few():
    inner = {f"{path} {imported}" for path, _, imported, nested in _imports() if nested}
    assert sorted(inner - set(ALLOWED_INNER)) == [], "import at the top of the module (or list it with its reason)"
    assert sorted(set(ALLOWED_INNER) - inner) == [], "no longer inside a function: remove from ALLOWED_INNER"
    assert len(ALLOWED_INNER) <= 10
