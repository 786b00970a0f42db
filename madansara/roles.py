"""Roles are groups. Which permissions each holds is declared here and synced after every
migrate, so permissions of models added later are granted without another data migration.
"""

from django.apps import apps as global_apps

ROLE_ADMIN, ROLE_MARKETER, ROLE_AGENT, ROLE_ANALYST = "Admin", "Marketer", "Agent", "Analyst"
ROLES = (ROLE_ADMIN, ROLE_MARKETER, ROLE_AGENT, ROLE_ANALYST)
DOMAIN_APPS = (
    "madansara",
    "contacts",
    "channels",
    "webhooks_out",
    "outreach",
    "conversion",
    "abtesting",
    "inbox",
    "website",
    "social",
    "notifications",
    "bestpractices",
    "agents",
    "django_celery_beat",
)
ALL_VERBS = "*"  # every permission of the app, custom ones (approve, ...) included
VIEW = ("view",)
OWN_KEYS = ("view", "add", "change")  # API keys: every role manages its own (the admin filters by owner)

# role -> "app_label" or "app_label.model" -> verbs ("view", "add", "change", "delete", a custom
# verb such as "approve", or ALL_VERBS). A model's own entry overrides its app's entry. This table
# is the single source of truth: groups are synced from it, the README's role table is generated
# from it (`roles_table_markdown`) and the permission-matrix tests are generated from it.
ROLE_RULES: dict[str, dict[str, object]] = {
    ROLE_ADMIN: dict.fromkeys(DOMAIN_APPS, ALL_VERBS) | {"auth": ALL_VERBS},
    ROLE_MARKETER: {
        "contacts": ALL_VERBS,
        "outreach": ALL_VERBS,
        "abtesting": ALL_VERBS,
        "website": ALL_VERBS,
        "conversion": ALL_VERBS,
        "social": ALL_VERBS,
        "bestpractices": ALL_VERBS,  # practices, recommendations, proposed tests
        "webhooks_out": ALL_VERBS,  # integrations: outbound webhook endpoints and their deliveries
        "agents": ALL_VERBS,  # AI agents' campaign drafts and conversions held for approval
        "channels": VIEW,
        "inbox": VIEW,
        "madansara": OWN_KEYS,
        "notifications": OWN_KEYS,  # their own notices and preferences (admin scopes rows)
    },
    ROLE_AGENT: {
        # works conversations and drafts; reads the inbox's configuration
        "inbox": ("view", "add", "change", "approve"),
        "inbox.autosendpolicy": VIEW,
        "inbox.autosendsettings": VIEW,
        "inbox.slapolicy": VIEW,
        "inbox.businesshours": VIEW,
        "inbox.team": VIEW,
        "inbox.agent": VIEW,
        "inbox.intent": VIEW,
        "inbox.responsetemplate": VIEW,
        "inbox.knowledgesnippet": VIEW,
        # edits the people they talk to, never campaigns, templates or suppression lists
        "contacts": VIEW,
        "contacts.contact": ("view", "change"),
        "contacts.contactidentity": ("view", "add", "change"),
        "contacts.contactconsent": ("view", "change"),
        "outreach": VIEW,
        "channels": VIEW,
        # answers comments; reads the rest of social
        "social": VIEW,
        "social.socialcomment": ("view", "change"),
        "conversion": VIEW,
        "bestpractices": VIEW,  # what works, to write better replies
        "madansara": OWN_KEYS,
        "notifications": OWN_KEYS,  # their own notices and preferences (admin scopes rows)
    },
    ROLE_ANALYST: {app: VIEW for app in DOMAIN_APPS if app != "django_celery_beat"} | {"madansara": OWN_KEYS},
}
# Only Admin gets the non-view verbs of these models (audit is append-only; agent policies are an
# operator's decision). Keys are the user's own.
READ_ONLY_MODELS = {"madansara.auditevent", "madansara.actionpolicy"}


def verbs_for(role: str, app_label: str, model: str) -> object:
    """The verbs ROLE_RULES gives `role` on one model (a model's entry wins over its app's)."""
    rules = ROLE_RULES[role]
    model_label = f"{app_label}.{model}"
    verbs = rules.get(model_label, rules.get(app_label, ()))
    if model_label in READ_ONLY_MODELS and role != ROLE_ADMIN:
        verbs = VIEW if verbs else ()
    return verbs


def role_allows(role: str, app_label: str, model: str, verb: str) -> bool:
    """Whether ROLE_RULES lets `role` do `verb` ("view", "change", "approve", ...) on the model."""
    verbs = verbs_for(role, app_label, model)
    return verbs == ALL_VERBS or verb in verbs


def roles_table_markdown() -> str:
    """The README's role × permission table, generated from ROLE_RULES (a test keeps them equal)."""

    def cell(verbs) -> str:
        if verbs == ALL_VERBS:
            return "all"
        return " ".join(verbs) if verbs else "—"

    def verbs(role: str, key: str):
        app_label, _, model = key.partition(".")
        return verbs_for(role, app_label, model) if model else ROLE_RULES[role].get(app_label, ())

    keys = {key for rules in ROLE_RULES.values() for key in rules} | READ_ONLY_MODELS
    lines = ["| app or model | " + " | ".join(ROLES) + " |", "| --- |" + " --- |" * len(ROLES)]
    for key in sorted(keys, key=lambda k: (k.split(".")[0], k)):
        lines.append(f"| `{key}` | " + " | ".join(cell(verbs(role, key)) for role in ROLES) + " |")
    return "\n".join(lines)


def sync_roles(apps=global_apps) -> None:
    """Create the role groups and give each exactly the permissions its rules grant."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(Permission.objects.select_related("content_type"))
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        granted = [
            perm
            for perm in perms
            if role_allows(role, perm.content_type.app_label, perm.content_type.model, perm.codename.split("_", 1)[0])
        ]
        group.permissions.set(granted)


def sync_on_migrate(sender, **kwargs):
    """post_migrate fires per app; sync once, after the last app's permissions exist."""
    with_models = [config for config in global_apps.get_app_configs() if config.models_module is not None]
    if sender.name == with_models[-1].name:
        sync_roles()
