"""Roles are groups. Which permissions each holds is declared here and synced after every
migrate, so permissions of models added later are granted without another data migration.
"""

from django.apps import apps as global_apps

ROLE_ADMIN, ROLE_MARKETER, ROLE_AGENT, ROLE_ANALYST = "Admin", "Marketer", "Agent", "Analyst"
ROLES = (ROLE_ADMIN, ROLE_MARKETER, ROLE_AGENT, ROLE_ANALYST)
DOMAIN_APPS = (
    "madansara",
    "channels",
    "outreach",
    "conversion",
    "abtesting",
    "inbox",
    "website",
    "social",
    "notifications",
    "django_celery_beat",
)
ALL_VERBS = "*"  # every permission of the app, custom ones (approve, ...) included

# role -> app label -> verbs ("view", "add", "change", "delete" or ALL_VERBS)
ROLE_RULES: dict[str, dict[str, object]] = {
    ROLE_ADMIN: dict.fromkeys(DOMAIN_APPS, ALL_VERBS) | {"auth": ALL_VERBS},
    ROLE_MARKETER: {
        "outreach": ALL_VERBS,
        "abtesting": ALL_VERBS,
        "website": ALL_VERBS,
        "conversion": ALL_VERBS,
        "social": ALL_VERBS,
        "channels": ("view",),
        "inbox": ("view",),
        "madansara": ("view", "add", "change"),
        "notifications": ("view", "add", "change"),  # their own notices and preferences (admin scopes rows)
    },
    ROLE_AGENT: {
        "inbox": ALL_VERBS,
        "outreach": ("view", "change"),
        "channels": ("view",),
        "social": ("view", "change"),
        "conversion": ("view",),
        "madansara": ("view", "add", "change"),
        "notifications": ("view", "add", "change"),  # their own notices and preferences (admin scopes rows)
    },
    ROLE_ANALYST: {app: ("view",) for app in DOMAIN_APPS if app != "django_celery_beat"}
    | {"madansara": ("view", "add", "change")},
}
# Only these models of an app get the non-view verbs (keys are the user's own; audit is read-only).
READ_ONLY_MODELS = {"madansara.auditevent"}


def sync_roles(apps=global_apps) -> None:
    """Create the role groups and give each exactly the permissions its rules grant."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(Permission.objects.select_related("content_type"))
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        rules = ROLE_RULES[role]
        granted = []
        for perm in perms:
            app_label = perm.content_type.app_label
            verbs = rules.get(app_label)
            if verbs is None:
                continue
            model_label = f"{app_label}.{perm.content_type.model}"
            verb = perm.codename.split("_", 1)[0]
            if model_label in READ_ONLY_MODELS and verb != "view" and role != ROLE_ADMIN:
                continue
            if verbs == ALL_VERBS or verb in verbs:
                granted.append(perm)
        group.permissions.set(granted)


def sync_on_migrate(sender, **kwargs):
    """post_migrate fires per app; sync once, after the last app's permissions exist."""
    if sender.name == list(global_apps.get_app_configs())[-1].name:
        sync_roles()
