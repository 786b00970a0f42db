"""Role- and scope-aware permissions for every API view.

A request passes when (1) an API key, if used, has the view's domain scope for the access
needed, and (2) the user holds the Django model permissions (their role) for the action.
Views declare `domain = "<domain>"` (see madansara.models.API_DOMAINS) and may declare
`required_perms = {"<action>": ["app.codename", ...]}` for domain verbs such as approve.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from madansara.models import APIKey

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def required_access(request, view) -> str:
    """'read' or 'write': views may override per action with `write_actions`/`read_actions`."""
    action = getattr(view, "action", None)
    if action and action in getattr(view, "read_actions", ()):
        return "read"
    if action and action in getattr(view, "write_actions", ()):
        return "write"
    return "read" if request.method in SAFE_METHODS else "write"


def required_perms(request, view) -> list[str]:
    action = getattr(view, "action", None)
    declared = getattr(view, "required_perms", {}) or {}
    if action in declared:
        return list(declared[action])
    if "*" in declared:
        return list(declared["*"])
    queryset = getattr(view, "queryset", None)
    if queryset is None and hasattr(view, "get_queryset"):
        try:
            queryset = view.get_queryset()
        except Exception:  # noqa: BLE001 - views without a queryset declare required_perms
            queryset = None
    if queryset is None:
        return []
    opts = queryset.model._meta
    verb = METHOD_ACTIONS.get(request.method, "change")
    if required_access(request, view) == "read":
        verb = "view"
    return [f"{opts.app_label}.{verb}_{opts.model_name}"]


class DomainPermission(BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        domain = getattr(view, "domain", None)
        access = required_access(request, view)
        key = request.auth if isinstance(request.auth, APIKey) else None
        if key is not None and (domain is None or not key.allows(domain, access)):
            self.message = f"This API key lacks the '{domain}:{access}' scope."
            return False
        perms = required_perms(request, view)
        if perms and not user.has_perms(perms):
            self.message = "Your role does not allow this action."
            return False
        return True
