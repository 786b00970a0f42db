"""Create an API key for a user from the shell: the key is printed once, alone on the last line."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from madansara.services import api_key_create, api_key_scope_choices


class Command(BaseCommand):
    help = "Create an API key (scopes as the API names them, e.g. '*:read,contacts:write'); prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Username of the key's owner")
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'CRM sync'")
        parser.add_argument("--scopes", required=True, help="Comma-separated scopes, e.g. '*:read,*:write'")

    def handle(self, *args, user, name, scopes, **options):
        owner = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: user}).first()
        if owner is None:
            raise CommandError(f"Unknown user '{user}'.")
        if not owner.is_active:
            raise CommandError(f"User '{user}' is inactive.")
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        unknown = [scope for scope in wanted if scope not in api_key_scope_choices()]
        if unknown:
            raise CommandError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(api_key_scope_choices())}.")
        try:
            key, raw = api_key_create(user=owner, name=name, scopes=wanted, actor="create_api_key")
        except ValidationError as exc:
            messages = [m for errors in exc.message_dict.values() for m in errors]
            raise CommandError(" ".join(messages)) from exc
        self.stdout.write(f"Created API key '{key.name}' for {user} with scopes {', '.join(key.scopes)}.")
        self.stdout.write("Store it now: it is shown only once, on the next line.")
        self.stdout.write(raw)
