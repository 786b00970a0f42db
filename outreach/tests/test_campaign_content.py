"""Templates validated when saved; rendering in the sandbox; LLM variants need approval."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from madansara.templating import TemplateError, template_render, template_validate
from outreach.models import TEMPLATE_VARIABLES, ChannelTemplate, TemplateVariant
from outreach.services.content import message_render, variants_generate
from outreach.services.copy import variant_approve
from outreach.services.planning import campaign_plan
from outreach.tests.campaign_helpers import NOON, campaign, contact


def test_validation_reports_syntax_error_with_line_unknown_variable_and_length():
    errors = template_validate(
        channel="sms",
        fields={"text": "Hi {{ contact.first_name }}\n{% if x %}", "subject": "{{ contact.email }}"},
        allowed_variables=TEMPLATE_VARIABLES,
    )
    assert any("syntax error on line 2" in e for e in errors)
    assert "subject: unknown variable 'contact.email'" in errors
    assert template_validate(channel="sms", fields={"text": "x" * 1601}, allowed_variables=set()) == [
        "text: 1601 characters, over the sms limit of 1600"
    ]
    assert template_validate(channel="whatsapp", fields={"text": "x" * 4096}, allowed_variables=set()) == []


def test_the_sandbox_refuses_unsafe_access_and_missing_variables():
    with pytest.raises(TemplateError):
        template_render(source="{{ x.__class__.__mro__ }}", context={"x": 1})
    with pytest.raises(TemplateError):
        template_render(source="{{ missing }}", context={})
    assert template_render(source="<p>{{ n }}</p>", context={"n": "<b>"}, html=True) == "<p>&lt;b&gt;</p>"
    assert template_render(source="{{ n }}", context={"n": "<b>"}) == "<b>"


@pytest.mark.django_db
def test_a_template_with_an_error_cannot_be_saved():
    with pytest.raises(ValidationError) as error:
        ChannelTemplate.objects.create(name="bad", channel="email", subject="Hi {{ contact.nickname }}", text="x")
    assert "unknown variable 'contact.nickname'" in str(error.value)
    with pytest.raises(ValidationError):
        ChannelTemplate.objects.create(name="long", channel="sms", text="y" * 2000)


@pytest.mark.django_db
def test_rendered_email_has_tracked_links_and_escaped_html():
    person = contact(name="Zoé<i>x</i> Durand")
    camp = campaign(contacts=[person], links={"offer": "https://shop.example.com/sale"})
    step = camp.steps.get()
    step.templates.filter(channel="email").update(
        html='<p>Hi {{ contact.first_name }}</p><a href="{{ links.offer }}">Sale</a>'
    )
    campaign_plan(campaign=camp, now=NOON)
    row = camp.outbox.get()

    rendered = message_render(row=row)

    assert "Hi Zoé&lt;i&gt;x&lt;/i&gt;</p>" in rendered.html
    assert "/o/c/" in rendered.html and "shop.example.com" not in rendered.html
    assert rendered.subject == "Hello Zoé<i>x</i>"  # subjects are text, not HTML


@pytest.mark.django_db
def test_local_fallback_drafts_variants_that_are_not_used_until_approved():
    person = contact()
    camp = campaign(contacts=[person])
    template = camp.steps.get().templates.get()
    with override_settings(ANTHROPIC_API_KEY=""):
        drafts = variants_generate(template=template, field_name="subject", brief="Winter sale. 20% off", count=3)
    assert len(drafts) == 3 and all(d.status == "draft" and d.source == "local" for d in drafts)
    campaign_plan(campaign=camp, now=NOON)
    row = camp.outbox.get()
    assert message_render(row=row).variant_key == ""  # drafts are never sent

    for draft in drafts:
        variant_approve(variant=draft)
    keys = {message_render(row=row).variant_key}
    assert keys <= {"", *(f"v{d.pk}" for d in drafts)}


@pytest.mark.django_db
def test_llm_variants_come_from_the_anthropic_api_and_off_limit_drafts_are_dropped(httpserver):
    # a local fake of the Messages API answering with a tool call
    def answer(variants):
        return {
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "tool_use", "id": "tu_1", "name": "record_variants", "input": {"variants": variants}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 10, "output_tokens": 20},
        }  # fmt: skip

    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        answer(["Last call, {{ contact.first_name }}!", "{{ contact.password }} leaked", "y" * 1200])
    )
    person = contact()
    camp = campaign(contacts=[person])
    template = camp.steps.get().templates.get()
    with override_settings(ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=httpserver.url_for("")):
        drafts = variants_generate(template=template, field_name="subject", brief="Sale ends tonight", count=3)

    assert [d.content for d in drafts] == ["Last call, {{ contact.first_name }}!"]
    assert drafts[0].source == "claude-test"
    body = json.loads(httpserver.log[0][0].data)
    assert body["tool_choice"]["name"] == "record_variants"
    assert TemplateVariant.objects.filter(status="approved").count() == 0


@override_settings(PUBLIC_BASE_URL="https://mail.example.com")
def test_tracking_links_are_the_reversed_url_of_their_token_under_the_script_prefix():
    from django.urls import reverse, set_script_prefix

    from outreach.services.content import _url, click_token, unsubscribe_token, unsubscribe_token_read

    token = unsubscribe_token(contact_id=7, channel="email", outbox_id=9)
    try:
        for prefix in ("/", "/madansara/"):
            set_script_prefix(prefix)
            # the cached prefix gives exactly what reverse() gives, for every token
            for name, value in (
                ("outreach:unsubscribe", token),
                ("outreach:click", click_token(outbox_id=9, link="a")),
            ):
                assert _url(name, value) == f"https://mail.example.com{reverse(name, args=[value])}"
            assert _url("outreach:unsubscribe", token).startswith(f"https://mail.example.com{prefix}")
    finally:
        set_script_prefix("/")
    assert unsubscribe_token_read(_url("outreach:unsubscribe", token).rsplit("/", 1)[1])["c"] == 7
