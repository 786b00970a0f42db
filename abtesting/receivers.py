"""Website tracker events become metrics of the site's running website tests; a website
recommendation becomes a draft test."""

from django.dispatch import receiver
from django.utils.dateparse import parse_datetime

from abtesting import selectors, services
from abtesting.models import WEBSITE_SURFACES, ABTestStatus
from website.signals import events_ingested, recommendation_test_requested


@receiver(events_ingested, dispatch_uid="abtesting.record_website_events")
def record_website_events(sender, site_id: int, events: list[dict], **kwargs) -> None:
    tests = [
        t for t in selectors.live_tests(site_id=site_id, surfaces=WEBSITE_SURFACES) if t.status == ABTestStatus.RUNNING
    ]
    for event in events:
        visitor = event.get("visitor_id")
        if not visitor:
            continue
        if event.get("contact_id"):
            services.unit_identify(unit_id=str(visitor), contact_id=event["contact_id"])
        occurred_at = event.get("occurred_at")
        if isinstance(occurred_at, str):
            occurred_at = parse_datetime(occurred_at)
        for test in tests:
            if event.get("name") in test.metrics:
                services.outcome_record(
                    test=test,
                    unit_id=str(visitor),
                    metric=event["name"],
                    value=_value(event) if test.is_mean_metric(event["name"]) else 1.0,
                    occurred_at=occurred_at,
                )


def _value(event: dict) -> float:
    try:
        return float((event.get("props") or {}).get("value", 1.0))
    except (TypeError, ValueError):
        return 0.0


@receiver(recommendation_test_requested, dispatch_uid="abtesting.create_recommended_test")
def create_recommended_test(sender, recommendation, key: str, variants, actor, proposal: dict, **kwargs):
    """The draft test a website recommendation proposes, on the recommendation's site."""
    return services.abtest_create(key=key, variants=variants, actor=actor, site=recommendation.site, **proposal)
