from datetime import timedelta

import pytest

from website.models import FunnelDefinition, OptimizationRecommendation
from website.recommendations import recommendation_dismiss, recommendations_generate
from website.services import sessions_rebuild
from website.tests.factories import T0, add_event

MIN = timedelta(minutes=1)
RANGE = {"start": T0, "end": T0 + timedelta(days=7)}


@pytest.fixture
def leaky_shop(site):
    """40 desktop visitors all buy; 32 of 40 mobile visitors leave on /cart."""
    for i in range(80):
        device = "mobile" if i % 2 else "desktop"
        v = f"v{i}"
        add_event(site, v, "pageview", T0 + i * MIN, path="/", session=v, device=device)
        add_event(site, v, "pageview", T0 + i * MIN + MIN, path="/cart", session=v, device=device)
        if device == "desktop" or i % 10 == 1:
            add_event(site, v, "pageview", T0 + i * MIN + 2 * MIN, path="/thanks", session=v, device=device)
    sessions_rebuild(**RANGE)
    return FunnelDefinition.objects.create(
        site=site, name="Checkout", steps=[{"url": "/"}, {"url": "/cart"}, {"url": "/thanks"}]
    )


@pytest.mark.django_db
def test_rules_find_the_drop_off_the_exit_page_and_the_weak_segment(site, leaky_shop):
    found = {r.kind: r for r in recommendations_generate(site_id=site.pk, **RANGE)}
    drop = found["funnel_drop_off"]
    assert drop.evidence["from_step"]["label"] == "/cart"
    assert drop.evidence["from_step"]["dropped"] == 32
    assert drop.proposed_test["url_pattern"] == "/cart"
    assert found["high_exit_page"].evidence["path"] == "/cart"
    segment = OptimizationRecommendation.objects.get(fingerprint=f"segment:{leaky_shop.pk}:device:mobile")
    assert segment.evidence["counts"] == [40, 40, 8]
    assert {v["key"] for v in segment.proposed_test["variants"]} == {"control", "treatment"}


@pytest.mark.django_db
def test_rerunning_updates_findings_and_keeps_dismissed_ones_dismissed(site, leaky_shop):
    first = recommendations_generate(site_id=site.pk, **RANGE)
    recommendation_dismiss(recommendation=first[0])
    again = recommendations_generate(site_id=site.pk, **RANGE)
    assert len(again) == len(first) == OptimizationRecommendation.objects.count()
    assert OptimizationRecommendation.objects.get(pk=first[0].pk).status == "dismissed"
