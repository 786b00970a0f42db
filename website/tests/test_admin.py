from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from website.models import FunnelDefinition, OptimizationRecommendation
from website.tests.factories import add_event


@pytest.fixture
def recent(site):
    now = timezone.now()
    for visitor, device in (("a", "desktop"), ("b", "mobile")):
        add_event(site, visitor, "pageview", now - timedelta(days=2), path="/", device=device)
    add_event(site, "a", "signup", now - timedelta(days=2) + timedelta(minutes=1), path="/")
    FunnelDefinition.objects.create(site=site, name="Signup", steps=[{"url": "/"}, {"event": "signup"}])


@pytest.mark.django_db
def test_site_dashboard_renders_trend_and_funnel_charts_as_inline_svg(admin_client, site, recent):
    response = admin_client.get(reverse("admin:website_site_dashboard", args=[site.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('aria-label="Trend chart"') == html.count('aria-label="Funnel chart"') == 1
    assert "1 dropped" in html
    assert "<script src=" not in html.split('id="content"')[1]  # no chart library, no CDN


@pytest.mark.django_db
def test_site_change_page_shows_the_snippet(admin_client, site):
    html = admin_client.get(reverse("admin:website_site_change", args=[site.pk])).content.decode()
    assert f"data-site=&quot;{site.public_key}&quot;" in html or f'data-site="{site.public_key}"' in html


@pytest.mark.django_db
def test_funnel_change_page_has_its_chart_and_admin_lists_load(admin_client, site, recent):
    funnel = FunnelDefinition.objects.get()
    assert (
        "<svg" in admin_client.get(reverse("admin:website_funneldefinition_change", args=[funnel.pk])).content.decode()
    )
    for name in ("websitesession", "websitevisitor", "websiteevent", "funnelanalytics", "optimizationrecommendation"):
        assert admin_client.get(reverse(f"admin:website_{name}_changelist")).status_code == 200


@pytest.mark.django_db
def test_admin_actions_generate_recommendations_and_snapshot_funnels(admin_client, site, recent):
    admin_client.post(
        reverse("admin:website_funneldefinition_changelist"),
        {"action": "snapshot_yesterday", "_selected_action": [FunnelDefinition.objects.get().pk]},
    )
    assert FunnelDefinition.objects.get().snapshots.count() == 1
    admin_client.post(
        reverse("admin:website_site_changelist"), {"action": "generate_recommendations", "_selected_action": [site.pk]}
    )
    assert OptimizationRecommendation.objects.count() == 0  # too little traffic for any rule
