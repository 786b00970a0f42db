"""The review desk for copy, as a marketer uses it: compose a newsletter from a brief, review a
variant per contact (findings, recipients missing data), approve or reject it, start a copy
experiment and read the results per variant on the campaign page."""

import pytest

from madansara.tests.factories import make_user
from outreach.models import ContentDraft, TemplateVariant
from outreach.services.dispatch import outbox_dispatch
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client, settings):
    settings.ANTHROPIC_API_KEY = ""
    client.force_login(make_user("Marketer", username="marketer"))
    return client


SOURCES = (
    "Nouvelle carte de printemps\nSix nouveaux plats arrivent le 1er mars.\nhttps://shop.example.com/carte\n\n"
    "Horaires élargis\nNous ouvrons à 7 h en semaine."
)


def test_a_marketer_composes_reviews_approves_and_reads_results_per_variant(marketer):
    people = [contact(locale="fr", name=f"Marie {i}") for i in range(12)]
    nameless = people[0]
    nameless.name = ""
    nameless.save()
    camp = campaign(contacts=people)
    template = camp.steps.get().templates.get()

    # compose from a brief in the admin (the segment speaks French)
    response = marketer.post(
        "/admin/outreach/contentdraft/add/",
        {
            "brief": "Carte de printemps",
            "template": template.pk,
            "segment": camp.segment.pk,
            "language": "",
            "subject_count": 2,
            "sources_text": SOURCES,
        },  # fmt: skip
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = ContentDraft.objects.get()
    assert draft.language == "fr" and draft.variants.count() == 2
    page = marketer.get(f"/admin/outreach/contentdraft/{draft.pk}/change/").content.decode()
    assert "Nouvelle carte de printemps" in page and "Review per contact" in page

    # review one variant: findings, a per-contact preview (a contact can be picked)
    variant = draft.variants.order_by("id").first()
    unguarded = "Bonjour {{ contact.first_name }} ! " + variant.body  # the marketer edits the copy
    marketer.post(f"/admin/outreach/templatevariant/{variant.pk}/change/", _form(variant, body=unguarded))
    variant.refresh_from_db()
    assert variant.checks["missing"]["count"] == 1
    url = f"/admin/outreach/templatevariant/{variant.pk}/preview/"
    page = marketer.get(url, {"contact": people[3].pk}).content.decode()
    assert "Recipients missing data (1)" in page and f'href="?contact={nameless.pk}"' in page
    assert "Bonjour Marie ! Bonjour Marie," in page and "Six nouveaux plats arrivent le 1er mars." in page

    # approve from the review page; the other variant is rejected with a note
    assert marketer.post(url, {"decision": "approve", "note": "ok"}).status_code == 302
    other = draft.variants.exclude(pk=variant.pk).get()
    marketer.post(f"/admin/outreach/templatevariant/{other.pk}/preview/", {"decision": "reject", "note": "no"})
    assert dict(TemplateVariant.objects.values_list("pk", "status")) == {variant.pk: "approved", other.pk: "rejected"}
    assert TemplateVariant.objects.get(pk=variant.pk).approved_by.username == "marketer"

    # start a copy experiment from the campaign list, send, read results per variant
    response = marketer.post(
        "/admin/outreach/outreachcampaign/",
        {"action": "start_copy_experiment", "_selected_action": [camp.pk]},
        follow=True,
    )
    assert "copy experiment" in response.content.decode()
    campaign_plan(campaign=camp, now=NOON)
    outbox_dispatch(once=True, now=NOON)
    page = marketer.get(f"/admin/outreach/outreachcampaign/{camp.pk}/change/").content.decode()
    assert 'id="variant-results"' in page and variant.key in page and "template as written" in page


def test_editing_approved_copy_in_the_admin_needs_a_new_approval(marketer):
    camp = campaign(contacts=[contact()])
    variant = TemplateVariant.objects.create(
        template=camp.steps.get().templates.get(), field="message", source="p", subject="Spring", body="Hello"
    )
    marketer.post(f"/admin/outreach/templatevariant/{variant.pk}/preview/", {"decision": "approve"})
    variant.refresh_from_db()
    assert variant.status == "approved"
    marketer.post(f"/admin/outreach/templatevariant/{variant.pk}/change/", _form(variant, body="Changed"))
    variant.refresh_from_db()
    assert (variant.status, variant.body) == ("draft", "Changed")


def test_an_agent_cannot_approve_copy(client):
    client.force_login(make_user("Agent"))
    camp = campaign(contacts=[contact()])
    variant = TemplateVariant.objects.create(template=camp.steps.get().templates.get(), field="message", source="p")
    response = client.post(f"/admin/outreach/templatevariant/{variant.pk}/preview/", {"decision": "approve"})
    assert response.status_code == 403
    variant.refresh_from_db()
    assert variant.status == "draft"


def _form(variant, **changes):
    fields = ["template", "field", "subject", "preview", "body", "html", "cta_label", "cta_link",
              "whatsapp_template", "content", "language"]  # fmt: skip
    data = {name: getattr(variant, name) for name in fields} | {"template": variant.template_id}
    return data | changes
