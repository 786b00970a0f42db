"""Demo data for the social app: the sandbox account, synced (posts, comments, insights)."""

from django.db import transaction

from social.models import SocialAccount, SocialPost
from social.services.scoring import engagement_scores_recompute
from social.services.sync import account_sync

DEMO_ACCOUNT = "Madan Sara Demo"


def seed_demo(stdout) -> None:
    """Create and sync the sandbox social account once (idempotent: keyed by platform + external id),
    then score every contact's engagement (the campaigns' opens and clicks count)."""
    seed_account(stdout)
    stdout.write(f"social: {engagement_scores_recompute()} engagement scores updated")


def seed_account(stdout) -> None:
    with transaction.atomic():
        account, created = SocialAccount.objects.get_or_create(
            platform="sandbox", external_id="demo", defaults={"name": DEMO_ACCOUNT, "handle": "madansara"}
        )
        if not created and SocialPost.objects.filter(account=account).exists():
            stdout.write("social: demo account already synced")
            return
        account_sync(account=account)
    stdout.write(f"social: synced {SocialPost.objects.filter(account=account).count()} posts")
