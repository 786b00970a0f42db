"""The content API: compose a draft from a brief, preview per contact, approve/reject with roles,
start a copy experiment and read results per variant."""

import pytest

from madansara.tests.factories import make_user
from outreach.models import TemplateVariant
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, settings):
    settings.ANTHROPIC_API_KEY = ""

    def as_role(role):
        client.force_login(make_user(role))
        return client

    return as_role


def test_compose_preview_approve_experiment_and_results(api):
    marketer = api("Marketer")
    people = [contact(locale="es") for _ in range(6)]
    camp = campaign(contacts=people)
    template = camp.steps.get().templates.get()

    response = marketer.post(
        "/api/v1/content-drafts",
        {"brief": "Menú de primavera", "template": template.pk, "segment": camp.segment.pk, "subject_count": 2,
         "sources": [{"title": "Nuevo menú", "text": "Seis platos nuevos.", "link": "https://shop.example.com/m"}]},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    draft = response.json()
    assert draft["language"] == "es" and len(draft["variants"]) == 2
    assert all(v["status"] == "draft" for v in draft["variants"])
    variant_id = draft["variants"][-1]["id"]

    preview = marketer.post(
        f"/api/v1/template-variants/{variant_id}/preview", {"contact": people[0].pk}, content_type="application/json"
    )
    assert preview.status_code == 200 and preview.json()["text"].startswith("Hola Ana")

    # an experiment on a draft is refused; approval by the marketer, then the experiment runs
    arms = {"arms": [[variant_id]], "min_units_per_arm": 1, "min_runtime_days": 0}
    refused = marketer.post(f"/api/v1/campaigns/{camp.pk}/copy-experiment", arms, content_type="application/json")
    assert refused.status_code == 400 and "not approved" in str(refused.json())
    approved = marketer.post(
        f"/api/v1/template-variants/{variant_id}/approve", {"note": "ok"}, content_type="application/json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    started = marketer.post(f"/api/v1/campaigns/{camp.pk}/copy-experiment", arms, content_type="application/json")
    assert started.status_code == 201 and started.json()["status"] == "running"

    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)
    rows = marketer.get(f"/api/v1/campaigns/{camp.pk}/variant-results").json()
    assert sum(r["sent"] for r in rows) == 6 and {r["arm"] for r in rows} <= {"original", "copy-1"}

    # editing approved copy through the API makes it a draft again
    edited = marketer.patch(
        f"/api/v1/template-variants/{variant_id}", {"body": "Otro texto"}, content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["status"] == "draft"


def test_an_agent_can_read_but_not_approve_or_reject(api):
    camp = campaign(contacts=[contact()])
    variant = TemplateVariant.objects.create(template=camp.steps.get().templates.get(), field="message", source="p")
    agent = api("Agent")
    assert agent.get(f"/api/v1/template-variants/{variant.pk}").status_code == 200
    for verb in ("approve", "reject"):
        assert agent.post(f"/api/v1/template-variants/{variant.pk}/{verb}").status_code == 403
    variant.refresh_from_db()
    assert variant.status == "draft"
