"""Message templates: one sandboxed Jinja2 environment for every app.

Templates are written by marketers and agents, so they run in Jinja2's immutable sandbox (no
attribute tricks, no mutation) with StrictUndefined (a missing variable is an error, never an
empty string). `template_validate` finds every problem when a template is saved, so nothing is
discovered at send time (unsafe expressions such as `''.__class__` included); `template_render`
renders with autoescape only for HTML, within a size and a time budget: repetition (`'x' * n`)
and powers are capped inside the sandbox, and rendering stops past MAX_RENDER_CHARS or
MAX_RENDER_SECONDS.
"""

import time
from functools import cache, lru_cache

from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from madansara.choices import Channel

# Longest rendered text a channel accepts (characters). Subjects: RFC 5322 line limit.
LENGTH_LIMITS: dict[str, int] = {
    Channel.SMS: 1600,
    Channel.WHATSAPP: 4096,
    Channel.X: 10000,
    Channel.FACEBOOK: 2000,
    Channel.INSTAGRAM: 1000,
    Channel.LINKEDIN: 8000,
}
SUBJECT_LIMIT = 998
# Fields whose source is HTML (autoescaped when rendered).
HTML_FIELDS = {"html"}


# Render budget: far above any message a channel takes (Gmail clips HTML mail at 102 KB).
MAX_RENDER_CHARS = 512 * 1024
MAX_RENDER_SECONDS = 2.0
MAX_REPEAT_CHARS = 10_000  # `'-' * 40` is a divider; `'x' * 20000000` is an attack
MAX_POWER_BITS = 4096
MAX_LOOP_DEPTH = 2
_LITERALS = (nodes.Const, nodes.TemplateData, nodes.List, nodes.Tuple, nodes.Dict)


class TemplateError(Exception):
    """A template failed to render (unknown variable, sandbox violation, over the render budget)."""


def _too_long(sequence, count) -> bool:
    return (
        isinstance(sequence, str | list | tuple) and isinstance(count, int) and len(sequence) * count > MAX_REPEAT_CHARS
    )


def _too_big(base, exponent) -> bool:
    return isinstance(base, int) and isinstance(exponent, int) and base.bit_length() * exponent > MAX_POWER_BITS


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with `*` and `**` checked before they run (Jinja's intercepted binops)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator_: str, left, right):
        if operator_ == "*" and (_too_long(left, right) or _too_long(right, left)):
            raise SecurityError(f"repetition longer than {MAX_REPEAT_CHARS} characters")
        if operator_ == "**" and _too_big(left, right):
            raise SecurityError(f"power larger than {MAX_POWER_BITS} bits")
        return super().call_binop(context, operator_, left, right)


@cache
def _environment(html: bool) -> LimitedSandbox:
    return LimitedSandbox(
        undefined=StrictUndefined, autoescape=html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False
    )


def _const_product_too_long(node: nodes.Mul) -> bool:
    """`'x' * 20000000` written with literals: refused at save, not first at send time."""
    left, right = node.left, node.right
    if isinstance(left, nodes.Const) and isinstance(right, nodes.Const):
        return _too_long(left.value, right.value) or _too_long(right.value, left.value)
    return False


def _unsafe_expressions(ast) -> list[str]:
    """Expressions the sandbox would refuse at render time, found when the template is saved."""
    problems = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter, nodes.Mul, nodes.Pow)):
        if isinstance(node, nodes.Getattr) and (node.attr.startswith("_") or isinstance(node.node, _LITERALS)):
            problems.append(
                f"unsafe expression: attribute '{node.attr}'" + (" of a literal" * isinstance(node.node, _LITERALS))
            )
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and str(node.arg.value).startswith("_")
        ):
            problems.append(f"unsafe expression: item '{node.arg.value}'")
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            problems.append("unsafe expression: the attr filter is not allowed")
        elif isinstance(node, nodes.Mul) and _const_product_too_long(node):
            problems.append(f"unsafe expression: repetition longer than {MAX_REPEAT_CHARS} characters")
        elif isinstance(node, nodes.Pow):
            problems.append("unsafe expression: powers (**) are not allowed")
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, (*_LITERALS, nodes.BinExpr)):
            problems.append("unsafe expression: a loop must run over a variable")
        depth = sum(1 for _ in _enclosing_loops(ast, loop))
        if depth > MAX_LOOP_DEPTH:
            problems.append(f"unsafe expression: loops nested deeper than {MAX_LOOP_DEPTH}")
    return sorted(set(problems))


def _enclosing_loops(ast, target):
    """The For nodes enclosing `target`, itself included."""
    path: list[nodes.Node] = []

    def walk(node) -> bool:
        path.append(node)
        if node is target:
            return True
        if any(walk(child) for child in node.iter_child_nodes()):
            return True
        path.pop()
        return False

    walk(ast)
    return [node for node in path if isinstance(node, nodes.For)]


def _root_variables(ast) -> set[str]:
    """Top-level names a template reads (`contact` for `{{ contact.name }}`), loop vars excluded."""
    return set(meta.find_undeclared_variables(ast))


def _dotted_variables(ast) -> set[str]:
    """Dotted names a template reads: `contact.first_name`, `links.offer` (attribute chains)."""
    found = set()
    for node in ast.find_all(nodes.Getattr):
        parts = []
        current = node
        while isinstance(current, nodes.Getattr):
            parts.append(current.attr)
            current = current.node
        if isinstance(current, nodes.Name):
            parts.append(current.name)
            found.add(".".join(reversed(parts)))
    # `contact.a.b` also yields its inner chain `contact.a`: keep only the longest chains.
    return {name for name in found if not any(other.startswith(name + ".") for other in found)}


def _allowed(name: str, allowed: set[str]) -> bool:
    """`contact.first_name` is allowed by `contact.first_name` or `contact` or `contact.*`."""
    if name in allowed:
        return True
    parts = name.split(".")
    return any(".".join(parts[:i]) in allowed or ".".join(parts[:i]) + ".*" in allowed for i in range(1, len(parts)))


def template_validate(*, channel: str, fields: dict[str, str], allowed_variables: set[str]) -> list[str]:
    """Every problem of a template's fields, as readable messages (empty list: valid).

    `fields` maps a field name (subject, html, text, template_name...) to its source.
    `allowed_variables` holds names like `contact.first_name`, `campaign.name` or whole roots
    (`links`, `contact.*`). Checks syntax (with line), unknown variables and length limits
    (the source's static length, since variables are only known at send time).
    """
    errors: list[str] = []
    for field_name, source in fields.items():
        if not source:
            continue
        env = _environment(field_name in HTML_FIELDS)
        try:
            ast = env.parse(source)
        except TemplateSyntaxError as exc:
            errors.append(f"{field_name}: syntax error on line {exc.lineno}: {exc.message}")
            continue
        errors.extend(f"{field_name}: {problem}" for problem in _unsafe_expressions(ast))
        roots = _root_variables(ast)
        dotted = _dotted_variables(ast)
        for name in sorted(roots):
            chains = sorted(d for d in dotted if d.split(".")[0] == name)
            for candidate in chains or [name]:
                if not _allowed(candidate, allowed_variables):
                    errors.append(f"{field_name}: unknown variable '{candidate}'")
        limit = SUBJECT_LIMIT if field_name == "subject" else LENGTH_LIMITS.get(channel)
        if field_name in {"subject", "text"} and limit and len(source) > limit:
            errors.append(f"{field_name}: {len(source)} characters, over the {channel} limit of {limit}")
        if field_name == "subject" and ("\n" in source or "\r" in source):
            errors.append("subject: must be a single line")
    return errors


@lru_cache(maxsize=1024)
def _compiled(source: str, html: bool):
    return _environment(html).from_string(source)


def template_render(*, source: str, context: dict, html: bool = False) -> str:
    """Render `source` in the sandbox; raises TemplateError on unknown variables, unsafe access,
    or output past MAX_RENDER_CHARS / MAX_RENDER_SECONDS (checked as the output is produced)."""
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    parts: list[str] = []
    size = 0
    try:
        for chunk in _compiled(source, html).generate(**context):
            size += len(chunk)
            if size > MAX_RENDER_CHARS:
                raise TemplateError(f"the rendered text is longer than {MAX_RENDER_CHARS} characters")
            if time.monotonic() > deadline:
                raise TemplateError(f"rendering took longer than {MAX_RENDER_SECONDS} seconds")
            parts.append(chunk)
    except (UndefinedError, SecurityError, TemplateSyntaxError, OverflowError, MemoryError) as exc:
        raise TemplateError(str(exc)) from exc
    return "".join(parts)


def rendered_length_error(*, channel: str, field_name: str, text: str) -> str | None:
    """The length-limit message for a rendered field, or None when it fits."""
    limit = SUBJECT_LIMIT if field_name == "subject" else LENGTH_LIMITS.get(channel)
    if limit and len(text) > limit:
        return f"{field_name}: {len(text)} characters, over the {channel} limit of {limit}"
    return None
