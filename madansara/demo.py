"""The base demo workspace: an admin and one user per role.

`manage.py seed_demo` runs this, then `seed_demo(stdout)` from every app's `<app>/demo.py`
(contacts next, in `madansara/contacts/demo.py`). Everything is idempotent.
"""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from madansara.roles import ROLES


def seed_users(stdout) -> None:
    User = get_user_model()
    username = os.environ.get("DEMO_ADMIN_USER", "admin")
    password = os.environ.get("DEMO_ADMIN_PASSWORD", "madansara")
    admin, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
    )
    if created:
        admin.set_password(password)
        admin.save()
    admin.groups.add(Group.objects.get(name="Admin"))
    for role in ROLES[1:]:
        user, created = User.objects.get_or_create(username=role.lower(), defaults={"is_staff": True})
        if created:
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=role))
    stdout.write(f"demo users: {username} (superuser), {', '.join(r.lower() for r in ROLES[1:])}")


def seed_demo(stdout) -> None:
    seed_users(stdout)
