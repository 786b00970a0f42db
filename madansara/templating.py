"""Message templates: one sandboxed Jinja2 environment for every app.

Templates are written by marketers and agents, so they run in Jinja2's immutable sandbox (no
attribute tricks, no mutation) with StrictUndefined (a missing variable is an error, never an
empty string). `template_validate` finds every problem when a template is saved, so nothing is
discovered at send time; `template_render` renders with autoescape only for HTML.
"""

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


class TemplateError(Exception):
    """A template failed to render (unknown variable, sandbox violation)."""


@cache
def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined, autoescape=html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False
    )


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
    """Render `source` in the sandbox; raises TemplateError on unknown variables or unsafe access."""
    try:
        return _compiled(source, html).render(**context)
    except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
        raise TemplateError(str(exc)) from exc


def rendered_length_error(*, channel: str, field_name: str, text: str) -> str | None:
    """The length-limit message for a rendered field, or None when it fits."""
    limit = SUBJECT_LIMIT if field_name == "subject" else LENGTH_LIMITS.get(channel)
    if limit and len(text) > limit:
        return f"{field_name}: {len(text)} characters, over the {channel} limit of {limit}"
    return None
