"""Thin Celery entry points for the orchestrator; the work lives in services."""

from celery import shared_task

from outreach.models import ChannelTemplate, OutreachCampaign
from outreach.services import direct, dispatch, planning
from outreach.services.content import variants_generate
from outreach.services.feedback import engagement_recompute


@shared_task(name="outreach.tasks.campaigns_plan_task")
def campaigns_plan_task() -> dict:
    """Daily (and hourly catch-up) planning of every running campaign; safe to run twice."""
    return planning.campaigns_plan()


@shared_task(name="outreach.tasks.campaign_plan_task")
def campaign_plan_task(campaign_id: int) -> dict | None:
    campaign = OutreachCampaign.objects.filter(pk=campaign_id, status="running").first()
    return planning.campaign_plan(campaign=campaign) if campaign else None


@shared_task(name="outreach.tasks.outbox_dispatch_task", soft_time_limit=110, time_limit=120)
def outbox_dispatch_task() -> dict:
    """Send what is due for up to ~100 s; duplicated ticks only add claimers (never duplicates)."""
    return dispatch.outbox_dispatch(once=True, max_seconds=100)


@shared_task(name="outreach.tasks.engagement_recompute_task")
def engagement_recompute_task(since: str | None = None) -> int:
    from django.utils.dateparse import parse_datetime

    return engagement_recompute(since=parse_datetime(since) if since else None)


@shared_task(name="outreach.tasks.variants_generate_task")  # runs once: an LLM error fails the task
def variants_generate_task(template_id: int, field_name: str, brief: str, count: int = 3) -> int:
    template = ChannelTemplate.objects.get(pk=template_id)
    return len(variants_generate(template=template, field_name=field_name, brief=brief, count=count))


@shared_task(name="outreach.tasks.direct_sends_due_task", soft_time_limit=110, time_limit=120)
def direct_sends_due_task() -> dict:
    """Deliver direct sends whose quiet hours are over or whose retry is due."""
    return direct.direct_sends_due()


@shared_task(name="outreach.tasks.direct_sends_recover_task", soft_time_limit=110, time_limit=120)
def direct_sends_recover_task() -> dict:
    """Finish direct sends a dead worker left `sending`, never sending one twice."""
    return direct.direct_sends_recover()
