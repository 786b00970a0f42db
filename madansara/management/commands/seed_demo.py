from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Build a small believable demo workspace (idempotent) and an admin account."

    def handle(self, *args, **options):
        import os

        User = get_user_model()
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "madansara")
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
        )
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(Group.objects.get(name="Admin"))
        self.stdout.write(f"demo admin: {username}")
