"""Backfill or refresh social accounts: `manage.py sync_social --platform instagram --since 2026-01-01`."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from social.models import Platform, SocialAccount
from social.services.sync import account_sync


class Command(BaseCommand):
    help = "Sync posts, metrics, comments, mentions and insights of connected social accounts."

    def add_arguments(self, parser):
        parser.add_argument("--platform", choices=Platform.values, help="Only accounts of this platform")
        parser.add_argument("--account", type=int, help="Only this account id")
        parser.add_argument("--since", help="Backfill from this date (YYYY-MM-DD) instead of the incremental cursor")

    def handle(self, *args, **options):
        since = None
        if options["since"]:
            try:
                since = datetime.strptime(options["since"], "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError as exc:
                raise CommandError("--since must look like 2026-01-31") from exc
        if not SocialAccount.objects.exists() and options["platform"] in (None, Platform.SANDBOX):
            # zero-config: a sandbox brand account with believable posts and comments
            SocialAccount.objects.create(
                platform=Platform.SANDBOX, name="Sandbox brand", external_id="sandbox", handle="brand"
            )
            self.stdout.write("No account connected yet: created the sandbox account 'Sandbox brand'.")
        accounts = SocialAccount.objects.filter(is_active=True).order_by("pk")
        if options["platform"]:
            accounts = accounts.filter(platform=options["platform"])
        if options["account"]:
            accounts = accounts.filter(pk=options["account"])
        if not accounts.exists():
            raise CommandError("No active account matches.")
        failed = 0
        for account in accounts:
            self.stdout.write(f"==> {account}")
            run = account_sync(account=account, since=since, progress=lambda line: self.stdout.write(f"    {line}"))
            summary = (
                f"{run.status}: {run.posts} posts, {run.comments} comments, {run.mentions} mentions, "
                f"{run.insights} insight days, {run.deleted_posts} deleted posts"
            )
            if run.error:
                summary += f" ({run.error})"
                failed += 1
            self.stdout.write(self.style.SUCCESS(summary) if not run.error else self.style.WARNING(summary))
        if failed:
            raise CommandError(f"{failed} account(s) did not sync completely; run again later.")
