"""JSON columns are edited as plain text in the console: no raw JSON where people type."""

import io

import pytest
from django.core.exceptions import ValidationError

from madansara.forms import FunnelStepsField, KeyValueField, LinesListField


def test_a_list_is_one_item_per_line_and_round_trips():
    field = LinesListField(required=False)
    assert field.prepare_value(["sms", "whatsapp"]) == "sms\nwhatsapp"
    assert field.clean("sms\n whatsapp ,email\n\n") == ["sms", "whatsapp", "email"]


def test_a_mapping_is_name_equals_value_lines_and_keeps_numbers():
    field = KeyValueField(required=False)
    text = field.prepare_value({"offer": "https://example.com/a=b", "seats": 12, "vip": True})
    assert text == "offer = https://example.com/a=b\nseats = 12\nvip = true"
    assert field.clean(text) == {"offer": "https://example.com/a=b", "seats": 12, "vip": True}
    with pytest.raises(ValidationError, match="Line 1"):
        field.clean("just words")


def test_funnel_steps_read_like_sentences():
    field = FunnelStepsField(required=True)
    steps = [{"url": "/pricing*"}, {"event": "signup_completed", "filters": {"plan": "pro"}}]
    assert field.prepare_value(steps) == "url /pricing*\nevent signup_completed plan=pro"
    assert field.clean("url /pricing*\nevent signup_completed plan=pro") == steps
    with pytest.raises(ValidationError, match="Line 2"):
        field.clean("url /a\nvisit /b")


@pytest.mark.django_db
def test_the_campaign_and_funnel_forms_show_text_not_json(admin_client):
    from django.core.management import call_command

    call_command("seed_demo", "--only", "madansara", "contacts", "outreach", "website", stdout=io.StringIO())
    from outreach.models import OutreachCampaign
    from website.models import FunnelDefinition

    campaign = OutreachCampaign.objects.exclude(links={}).first() or OutreachCampaign.objects.first()
    campaign.links = {"offer": "https://example.com/spring"}
    campaign.save(update_fields=["links"])
    html = admin_client.get(f"/admin/outreach/outreachcampaign/{campaign.pk}/change/").content.decode()
    assert "offer = https://example.com/spring" in html and "{&quot;offer&quot;" not in html
    funnel = FunnelDefinition.objects.first()
    html = admin_client.get(f"/admin/website/funneldefinition/{funnel.pk}/change/").content.decode()
    assert "url /pricing*" in html and "&quot;url&quot;" not in html
