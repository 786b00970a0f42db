"""Website tracker events become metrics of the site's running website tests; a website
recommendation becomes a draft test. Contact erasure and merge reach the units that stand for a
person."""

from django.db.models import Q
from django.dispatch import receiver
from django.utils.dateparse import parse_datetime

from abtesting import selectors, services
from abtesting.models import (
    CAMPAIGN_ARM_SURFACES,
    WEBSITE_SURFACES,
    ABTestExposure,
    ABTestStatus,
    ABTestUnitMetric,
    Outcome,
    Surface,
)
from conversion.signals import conversion_recorded
from madansara.contacts.signals import contact_erased, contact_merged
from madansara.erasure import matching, search_forms
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


# Experiments on campaign messages: a contact's conversion is an outcome of the arm it was sent.
MESSAGE_SURFACES = {Surface.EMAIL_SUBJECT, Surface.MESSAGE_COPY, *CAMPAIGN_ARM_SURFACES}


@receiver(conversion_recorded, dispatch_uid="abtesting.record_conversion")
def record_conversion(sender, conversion, **kwargs) -> None:
    """A contact's conversion counts in each running campaign-message experiment it was exposed
    to: as the metric "conversion" and as its type's code (a test may name either)."""
    if conversion.contact_id is None:
        return
    exposures = ABTestExposure.objects.filter(
        contact_id=conversion.contact_id, test__status=ABTestStatus.RUNNING, test__surface__in=MESSAGE_SURFACES
    ).select_related("test")
    for exposure in exposures:
        for metric in {Outcome.CONVERSION.value, conversion.conversion_type.code}:
            services.outcome_record(
                test=exposure.test, unit_id=exposure.unit_id, metric=metric, occurred_at=conversion.occurred_at
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


@receiver(contact_erased, dispatch_uid="abtesting.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    """A unit id that quotes the person (an integrator's e-mail as unit) is renamed, with its
    metrics, in each test; exposures, variants and daily stats stay."""
    forms = search_forms(values)
    exposures = matching(
        ABTestExposure.objects.filter(Q(contact_id=contact.pk) | Q(unit_id__in=values)),
        ["unit_id", "canonical_unit"],
        forms,
    )
    renamed = 0
    for exposure in exposures.only("pk", "test_id", "unit_id", "canonical_unit"):  # one person's units: few
        for field in ("unit_id", "canonical_unit"):
            old = getattr(exposure, field)
            if old and any(form.lower() in old.lower() for form in forms):
                new = f"erased:{contact.pk}:{exposure.pk}"
                ABTestUnitMetric.objects.filter(test_id=exposure.test_id, unit_id=old).update(unit_id=new)
                ABTestExposure.objects.filter(test_id=exposure.test_id, canonical_unit=old).update(canonical_unit=new)
                ABTestExposure.objects.filter(test_id=exposure.test_id, unit_id=old).update(unit_id=new)
                renamed += 1
    return {"abtesting.abtestexposure": renamed}


@receiver(contact_merged, dispatch_uid="abtesting.contact_merged")
def on_contact_merged(sender, survivor, loser, **kwargs) -> None:
    """The exposures have moved to the survivor; where a test now holds several of theirs, the
    later units count their outcomes on the first one (as variant_assign does for one contact)."""
    first: dict[int, ABTestExposure] = {}
    for exposure in ABTestExposure.objects.filter(contact=survivor).order_by("test_id", "exposed_at", "pk"):
        earliest = first.setdefault(exposure.test_id, exposure)
        canonical = earliest.canonical_unit or earliest.unit_id
        if exposure.pk != earliest.pk and exposure.canonical_unit != canonical:
            ABTestExposure.objects.filter(pk=exposure.pk).update(canonical_unit=canonical)
