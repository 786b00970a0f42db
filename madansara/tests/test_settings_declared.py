"""Every setting the code reads is declared in madansara/settings.py, and every environment variable
it reads is in one of README.md's environment tables: an operator finds each knob in one place.

The project's code is walked with `ast` (tests, migrations, benchmarks and the generated client
aside): `settings.NAME` and `getattr(settings, "NAME", ...)` must name a setting declared in
settings.py or one of Django's own; `os.environ.get/[]/setdefault`, `os.getenv` and settings.py's
`env_*` helpers must name a documented variable. A name computed at run time cannot be checked,
so it fails too.
"""

import ast
import re
from pathlib import Path

from django.conf import global_settings

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {".venv", "var", "bench", "clients", "tests", "migrations", "node_modules", "static"}
ENV_CALLS = {"os.environ.get", "os.getenv", "os.environ.setdefault", "env_bool", "env_int", "env_list"}
ENV_HELPERS = {"env_bool", "env_int", "env_list"}  # settings.py's readers: their `name` argument is checked at the call


def _project_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts[:-1]) or relative.name == "conftest.py":
            continue
        yield relative, ast.parse(path.read_text(), filename=str(relative))


def _reads():
    """(settings read, environment variables read, unresolvable reads) with where each happens."""
    settings_reads, env_reads, dynamic = {}, {}, []
    for relative, tree in _project_files():
        helpers = {n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name in ENV_HELPERS}
        inside_helper = {id(n) for h in helpers for n in ast.walk(h)} if relative.name == "settings.py" else set()
        for node in ast.walk(tree):
            where = f"{relative}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "settings":
                if node.attr.isupper():
                    settings_reads.setdefault(node.attr, where)
            elif isinstance(node, ast.Call):
                func = ast.unparse(node.func)
                first = node.args[0] if node.args else None
                if func == "getattr" and isinstance(first, ast.Name) and first.id == "settings":
                    name = node.args[1] if len(node.args) > 1 else None
                    if isinstance(name, ast.Constant):
                        settings_reads.setdefault(name.value, where)
                    else:
                        dynamic.append(f"{where} {ast.unparse(node)}")
                elif func in ENV_CALLS and first is not None:
                    if isinstance(first, ast.Constant):
                        env_reads.setdefault(first.value, where)
                    elif id(node) not in inside_helper:
                        dynamic.append(f"{where} {ast.unparse(node)}")
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                if isinstance(node.slice, ast.Constant):
                    env_reads.setdefault(node.slice.value, where)
                elif isinstance(node.ctx, ast.Load):
                    dynamic.append(f"{where} {ast.unparse(node)}")
    return settings_reads, env_reads, dynamic


def _declared_settings() -> set[str]:
    tree = ast.parse((ROOT / "madansara" / "settings.py").read_text())
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target is not None else set()
    return names


def _documented_variables() -> set[str]:
    section = (ROOT / "README.md").read_text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for line in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split(" | ")[0])}


def test_every_setting_read_is_declared_in_settings_py():
    settings_reads, _, _ = _reads()
    declared = _declared_settings()
    assert len(settings_reads) > 50, "the walk found too few reads to be looking at the code"
    missing = {
        name: where
        for name, where in settings_reads.items()
        if name not in declared and not hasattr(global_settings, name)
    }
    assert missing == {}, "declare these in madansara/settings.py (and document their variable in README.md)"


def test_every_environment_variable_read_is_in_the_readme_tables():
    _, env_reads, _ = _reads()
    documented = _documented_variables()
    assert {"DATABASE_URL", "CHANNEL_PROVIDERS", "DEMO_ADMIN_PASSWORD"} <= set(env_reads)
    missing = {name: where for name, where in env_reads.items() if name not in documented}
    assert missing == {}, "document these in README.md's environment tables"


def test_no_setting_or_variable_is_read_under_a_computed_name():
    _, _, dynamic = _reads()
    assert dynamic == [], "read settings as settings.NAME and variables by their literal name"
