"""Security: message templates refuse sandbox-escape expressions at save and render within a budget.

The attack (issue #22): `{{ ''.__class__ }}`-style expressions were accepted when a template was
saved (the sandbox only refused them at send time) and `{{ 'x'*20000000 }}` rendered 20 MB.
"""

import time
import tracemalloc

import pytest
from django.core.exceptions import ValidationError

from madansara import templating
from madansara.templating import TemplateError, template_render, template_validate
from madansara.tests.factories import key_client, make_user
from outreach.models import ChannelTemplate

ALLOWED = {"contact.*", "links", "campaign.name"}
ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ().__class__.__base__ }}",
    "{{ contact.__class__ }}",
    "{{ contact['__class__'] }}",
    "{{ contact|attr('__class__') }}",
    "{{ [].append }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_sandbox_escapes_are_refused_when_validated(source):
    errors = template_validate(channel="sms", fields={"text": source}, allowed_variables=ALLOWED)

    assert any("unsafe expression" in e for e in errors), errors


@pytest.mark.django_db
@pytest.mark.parametrize("source", [ESCAPES[0], "{{ 'x'*20000000 }}"])
def test_a_template_with_an_unsafe_expression_cannot_be_saved(source):
    with pytest.raises(ValidationError):
        ChannelTemplate.objects.create(name="evil", channel="sms", text=source)

    assert ChannelTemplate.objects.count() == 0


@pytest.mark.django_db
def test_the_api_answers_400_for_an_unsafe_template():
    client, _ = key_client(make_user("Marketer"), ["outreach:write"])

    response = client.post(
        "/api/v1/channel-templates",
        {"name": "evil", "channel": "sms", "text": "Hi {{ ''.__class__.__mro__ }}"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "unsafe expression" in response.content.decode()
    assert ChannelTemplate.objects.count() == 0


def test_a_twenty_megabyte_repetition_is_refused_without_being_built():
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError):
            template_render(source="{{ 'x'*20000000 }}", context={})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 2_000_000


def test_repetition_of_a_variable_is_capped_at_render_time():
    with pytest.raises(TemplateError):
        template_render(source="{{ contact.name * 5000000 }}", context={"contact": {"name": "Ada"}})


def test_huge_powers_are_refused():
    with pytest.raises(TemplateError):
        template_render(source="{{ n ** m }}", context={"n": 9, "m": 10**6})
    assert template_validate(channel="sms", fields={"text": "{{ 9 ** 9 ** 9 }}"}, allowed_variables=ALLOWED)


def test_output_past_the_size_budget_stops_rendering():
    context = {"items": list(range(2000)), "pad": "y" * 1000}  # would be 4 GB
    started = time.monotonic()
    with pytest.raises(TemplateError, match="longer than"):
        template_render(
            source="{% for a in items %}{% for b in items %}{{ pad }}{% endfor %}{% endfor %}", context=context
        )

    assert time.monotonic() - started < templating.MAX_RENDER_SECONDS + 5


def test_output_past_the_time_budget_stops_rendering(monkeypatch):
    monkeypatch.setattr(templating, "MAX_RENDER_SECONDS", -1.0)

    with pytest.raises(TemplateError, match="took longer"):
        template_render(source="{% for a in items %}{{ a }}{% endfor %}", context={"items": [1, 2, 3]})


@pytest.mark.parametrize(
    "source",
    [
        "{% for a in 'x' * 10000 %}{% endfor %}",
        "{% for a in [1, 2, 3] %}{{ a }}{% endfor %}",
        "{% for a in contact.tags %}{% for b in contact.tags %}{% for c in contact.tags %}{% endfor %}{% endfor %}{% endfor %}",
    ],
)
def test_loops_over_literals_or_nested_deeper_than_two_are_refused(source):
    errors = template_validate(channel="sms", fields={"text": source}, allowed_variables=ALLOWED)

    assert any("unsafe expression" in e for e in errors), errors


def test_ordinary_templates_still_validate_and_render():
    source = (
        "Hi {{ contact.first_name|default('there') }} {{ '-' * 10 }}{% for t in contact.tags %} #{{ t }}{% endfor %}"
    )

    assert template_validate(channel="sms", fields={"text": source}, allowed_variables=ALLOWED) == []
    assert template_render(source=source, context={"contact": {"first_name": "Ada", "tags": ["a", "b"]}}) == (
        "Hi Ada ---------- #a #b"
    )


@pytest.mark.parametrize(
    ("model", "field"),
    [("inbox.ResponseTemplate", "body"), ("social.CommentRule", "reply_template"), ("social.FunnelStep", "text")],
)
def test_every_model_holding_a_template_refuses_an_escape_when_cleaned(model, field):
    from django.apps import apps

    instance = apps.get_model(model)(**{field: "Hi {{ ''.__class__.__mro__ }}"})

    with pytest.raises(ValidationError) as raised:
        instance.clean()
    assert "unsafe expression" in str(raised.value)
