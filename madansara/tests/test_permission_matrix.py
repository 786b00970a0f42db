"""The permission matrix (#22): every role and every API key scope against every API operation and
every admin view and action, with the expectation generated from the role table
(`madansara.roles.ROLE_RULES`, applied to the groups by `sync_roles`) and the scopes' rules.

A principal without the permission gets 403 (never 200, never 500); one with it never gets 403
nor a server error. Operations and admin views are discovered (OpenAPI schema, admin registry and
each ModelAdmin's URLs), so a new endpoint or view joins the matrix by itself.
"""

import io
import re
from collections import defaultdict

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, resolve, reverse
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from madansara.api.permissions import required_access, required_perms
from madansara.models import APIKey
from madansara.roles import ROLES, sync_roles
from madansara.services import api_key_scope_choices
from madansara.tests.factories import make_user

MISSING_ID = "999999"
# a write scope of another domain: must never open this one
FOREIGN = defaultdict(lambda: "contacts:write", contacts="social:write")
STANDARD_ADMIN_VIEWS = {"changelist", "add", "history", "delete", "change", "autocomplete"}


def role_perms(role: str) -> set[str]:
    """What the role table grants the role (as synced onto its group)."""
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def key_for(user, scopes: list[str]) -> APIClient:
    raw, prefix, hashed = APIKey.generate()
    APIKey.objects.create(name="matrix", user=user, prefix=prefix, hashed_key=hashed, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raise_request_exception = False
    return client


def session_for(user, client_class=APIClient):
    client = client_class(raise_request_exception=False)
    client.force_login(user)
    return client


# --- API operations ----------------------------------------------------------------------------
def api_operations() -> list[tuple[str, str]]:
    """(method, url) of every operation in the OpenAPI schema, path parameters filled with a missing id."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = re.sub(r"\{[^}]+\}", MISSING_ID, path)
        operations.extend(
            (method.upper(), url) for method in methods if method in {"get", "post", "put", "patch", "delete"}
        )
    return operations


def api_requirement(method: str, url: str, user) -> tuple[list[str], str | None, str]:
    """(model permissions, scope domain, access) the view declares for this operation."""
    match = resolve(url)
    view_class, actions = match.func.cls, getattr(match.func, "actions", None)
    view = view_class(**getattr(match.func, "initkwargs", {}))
    request = Request(APIRequestFactory().generic(method, url))
    request.user = user
    view.request, view.args, view.kwargs, view.format_kwarg = request, (), match.kwargs, None
    if actions:
        view.action_map = actions
        view.action = actions.get(method.lower())
    return required_perms(request, view), getattr(view, "domain", None), required_access(request, view)


def call(client, method: str, url: str):
    return client.generic(method, url, data="{}" if method != "GET" else "", content_type="application/json")


def judge(failures, who, method, url, response, *, allowed: bool, why: str = "", denied=(403,)):
    status = response.status_code
    if status >= 500:
        failures.append(f"{who} {method} {url}: {status} server error")
    elif not allowed and status not in denied:
        failures.append(f"{who} {method} {url}: {status}, expected 403 ({why})")
    elif allowed and status == 403:
        failures.append(f"{who} {method} {url}: 403, expected access ({why})")


@pytest.mark.django_db
def test_every_role_and_every_key_scope_against_every_api_operation(capsys):
    # given one user per role, as the role table makes them, each with a session and an all-scope key
    sync_roles()
    users = {role: make_user(role) for role in ROLES}
    perms = {role: role_perms(role) for role in ROLES}
    principals = [(f"{role} (session)", role, session_for(users[role])) for role in ROLES]
    principals += [(f"{role} (key *:write)", role, key_for(users[role], ["*:write"])) for role in ROLES]
    # and an Admin-role user with one key per grantable scope
    scoped = {scope: key_for(users["Admin"], [scope]) for scope in api_key_scope_choices()}
    seen: set[tuple] = set()
    failures: list[str] = []
    operations = api_operations()
    requests = 0
    for method, url in operations:
        needed, domain, access = api_requirement(method, url, users["Admin"])
        # when each principal calls the operation
        for who, role, client in principals:
            allowed = set(needed) <= perms[role]
            judge(failures, who, method, url, call(client, method, url), allowed=allowed, why=f"needs {needed}")
            requests += 1
        # every scope on the first operation of each (domain, access); the deciding few on the rest
        first = (domain, access) not in seen
        seen.add((domain, access))
        for scope, client in scoped.items():
            scope_domain, scope_access = scope.split(":")
            if not first and scope not in {f"{domain}:read", f"{domain}:write", "*:read", FOREIGN[domain]}:
                continue
            grants = scope_domain in (domain, "*") and (scope_access == "write" or access == "read")
            allowed = grants and set(needed) <= perms["Admin"] and (domain != "api_keys" or scope_domain == "*")
            judge(
                failures, f"Admin key {scope}", method, url, call(client, method, url), allowed=allowed,
                why=f"{domain}:{access}",
            )  # fmt: skip
            requests += 1
    with capsys.disabled():
        print(f"\npermission matrix (API): {len(operations)} operations, {len(principals)} roles"
              f" and {len(scoped)} key scopes,"
              f" {requests} requests, {len(failures)} failures")  # fmt: skip
    # then each got 403 exactly when the role table or the key's scope does not grant the operation
    assert len(operations) > 100
    assert not failures, "\n".join(failures)


# --- admin -------------------------------------------------------------------------------------
def custom_admin_urls(model_admin) -> list[tuple[str, list]]:
    """(url name, path converters) of a ModelAdmin's own views beyond the standard ones."""
    info = f"{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}"
    found = []
    for pattern in model_admin.get_urls():
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        if pattern.name.removeprefix(info + "_") in STANDARD_ADMIN_VIEWS:
            continue
        found.append((pattern.name, list(pattern.pattern.converters)))
    return found


def admin_views(model, model_admin) -> list[tuple[str, str, str]]:
    """(method, url, verb the table must grant) for a ModelAdmin's views; its custom views (reports,
    the review desk) need the model's view permission. What a custom view's POST may do is per action
    (the review desk's approve/reject/reassign): its own tests cover those."""
    opts = model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    obj = model._default_manager.order_by("pk").first()
    pk = str(obj.pk) if obj else MISSING_ID
    views = [
        ("GET", reverse(f"{base}_changelist"), "view"),
        ("GET", reverse(f"{base}_add"), "add"),
        ("GET", reverse(f"{base}_change", args=[pk]), "view"),
        ("GET", reverse(f"{base}_delete", args=[pk]), "delete"),
    ]
    for name, converters in custom_admin_urls(model_admin):
        url = reverse(f"admin:{name}", args=[pk] * len(converters))
        views.append(("GET", url, "view"))
    return views


def granted(perms: set[str], model, verb: str) -> bool:
    opts = model._meta
    has = lambda v: f"{opts.app_label}.{v}_{opts.model_name}" in perms  # noqa: E731
    if (
        verb not in ("view", "add", "change", "delete")
        and not Permission.objects.filter(
            content_type__app_label=opts.app_label, codename=f"{verb}_{opts.model_name}"
        ).exists()
    ):
        verb = "change"  # an admin-only verb (refresh, simulate) that stands for the change permission
    return has(verb) or (verb == "view" and has("change"))  # Django: change implies view


@pytest.mark.django_db
def test_every_role_against_every_admin_view_and_action(admin_user, capsys):
    # given a workspace with objects to open and one staff user per role, made from the role table
    call_command("seed_demo", stdout=io.StringIO())
    sync_roles()
    users = {role: make_user(role) for role in ROLES}
    perms = {role: role_perms(role) for role in ROLES}
    clients = {role: session_for(users[role], Client) for role in ROLES}
    superuser = session_for(admin_user, Client)
    failures: list[str] = []
    checked = actions_checked = 0
    for model, model_admin in admin.site._registry.items():
        for method, url, verb in admin_views(model, model_admin):
            # views the ModelAdmin closes to everyone (read-only models) must stay closed to every role
            available = call(superuser, method, url).status_code != 403
            for role in ROLES:
                allowed = available and granted(perms[role], model, verb)
                response = clients[role].generic(method, url)
                # a view that hides an object the role may not see (404) denies as well as a 403
                judge(
                    failures, role, method, url, response, allowed=allowed, why=f"{verb} {model._meta.label}",
                    denied=(403, 404),
                )  # fmt: skip
                checked += 1
        # and the changelist's actions are offered only to roles the table lets do them
        for role in ROLES:
            if not granted(perms[role], model, "view"):
                continue  # no changelist, no actions
            request = APIRequestFactory().get("/")
            request.user = users[role]
            for name, (func, _, _) in model_admin.get_actions(request).items():
                needed = getattr(func, "allowed_permissions", None) or ("change",)
                if not all(granted(perms[role], model, verb) for verb in needed):
                    failures.append(f"{role}: admin action {model._meta.label}.{name} offered without {needed}")
                actions_checked += 1
    with capsys.disabled():
        print(f"\npermission matrix (admin): {len(admin.site._registry)} models, {checked} view checks,"
              f" {actions_checked} action offers, {len(failures)} failures")  # fmt: skip
    assert checked > 100
    assert not failures, "\n".join(failures)
