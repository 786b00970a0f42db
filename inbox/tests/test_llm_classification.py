"""Classification through the real Anthropic SDK against a fake Messages API on 127.0.0.1."""

import json
import time

import pytest
from werkzeug import Response

from inbox.models import AIClassification, ClassificationStatus, ReplyDraft
from inbox.services.classification import ClassificationRetry, inbound_classify
from inbox.services.conversations import conversation_ingest
from madansara.llm import LLMError, llm_structured

pytestmark = pytest.mark.django_db

GOOD = {
    "intent": "pricing",
    "sentiment_label": "neutral",
    "sentiment_score": 0.1,
    "urgency": "normal",
    "language": "fr",
    "confidence": 0.93,
    "legal_risk": False,
}


def message(tool_input, name="record_classification"):
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 321, "output_tokens": 45},
    }


def error(status, kind):
    return Response(
        json.dumps({"type": "error", "error": {"type": kind, "message": kind}}),
        status=status,
        content_type="application/json",
    )


@pytest.fixture
def anthropic_fake(httpserver, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/")
    settings.ANTHROPIC_TIMEOUT_SECONDS = 0.5
    settings.ANTHROPIC_MODEL = "claude-test-1"
    return httpserver


@pytest.fixture
def inbound(make_inbound):
    inbound = make_inbound(text="Combien coûte l'abonnement annuel ?")
    conversation_ingest(inbound=inbound, classify=False)
    return inbound


def test_valid_tool_output_is_stored_with_model_prompt_latency_and_tokens(anthropic_fake, inbound):
    anthropic_fake.expect_request("/v1/messages", method="POST").respond_with_json(message(GOOD))
    result = inbound_classify(inbound=inbound)
    assert (result.intent, result.language, result.engine) == ("pricing", "fr", "llm")
    assert (result.model, result.prompt_version) == ("claude-test-1", "classify-v1")
    assert (result.input_tokens, result.output_tokens) == (321, 45)
    sent = json.loads(anthropic_fake.log[0][0].get_data())
    assert sent["tool_choice"] == {"type": "tool", "name": "record_classification"}
    assert sent["tools"][0]["strict"] is True
    headers = anthropic_fake.log[0][0].headers
    assert "sk-ant-test" in (headers.get("x-api-key", "") + headers.get("authorization", ""))


def test_malformed_output_is_retried_then_accepted(anthropic_fake, inbound):
    anthropic_fake.expect_ordered_request("/v1/messages").respond_with_json(message({"intent": "pricing"}))
    anthropic_fake.expect_ordered_request("/v1/messages").respond_with_json(message(GOOD))
    result = inbound_classify(inbound=inbound)
    assert result.status == ClassificationStatus.DONE and result.attempts == 2


def test_persistently_off_schema_output_is_flagged_for_a_human(
    anthropic_fake, inbound, django_capture_on_commit_callbacks
):
    anthropic_fake.expect_request("/v1/messages").respond_with_json(message(GOOD | {"intent": "buy_now"}))
    result = inbound_classify(inbound=inbound, final_attempt=True)
    assert result.status == ClassificationStatus.NEEDS_HUMAN and result.confidence == 0
    assert "off schema" in result.error
    assert len(anthropic_fake.log) == 3  # first try + 2 re-asks


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error"), (500, "api_error")])
def test_rate_limits_and_server_errors_are_retried_later(anthropic_fake, inbound, status, kind):
    anthropic_fake.expect_request("/v1/messages").respond_with_response(error(status, kind))
    with pytest.raises(ClassificationRetry):
        inbound_classify(inbound=inbound, final_attempt=False)
    assert not AIClassification.objects.filter(inbound=inbound).exists()
    # On the last attempt the message goes to a human instead of being dropped
    assert inbound_classify(inbound=inbound, final_attempt=True).status == ClassificationStatus.NEEDS_HUMAN


def test_timeout_is_transient(anthropic_fake):
    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(message(GOOD)), content_type="application/json")

    anthropic_fake.expect_request("/v1/messages").respond_with_handler(slow)
    with pytest.raises(LLMError) as caught:
        llm_structured(
            system="s", messages=[{"role": "user", "content": "x"}], tool_name="t", tool_schema={"type": "object"}
        )
    assert caught.value.transient


def test_bad_request_is_permanent(anthropic_fake):
    anthropic_fake.expect_request("/v1/messages").respond_with_response(error(400, "invalid_request_error"))
    with pytest.raises(LLMError) as caught:
        llm_structured(
            system="s", messages=[{"role": "user", "content": "x"}], tool_name="t", tool_schema={"type": "object"}
        )
    assert not caught.value.transient


def test_task_flags_for_a_human_after_its_retries_and_drafts_for_review(anthropic_fake, inbound):
    from inbox.tasks import classify_inbound_task

    anthropic_fake.expect_request("/v1/messages").respond_with_response(error(503, "overloaded_error"))
    classify_inbound_task.apply(args=(inbound.pk,), retries=classify_inbound_task.max_retries)
    assert AIClassification.objects.get(inbound=inbound).status == ClassificationStatus.NEEDS_HUMAN
    draft = ReplyDraft.objects.get(inbound=inbound)
    assert draft.status == "pending" and not draft.low_risk


def test_llm_draft_uses_history_facts_templates_and_snippets(
    anthropic_fake, make_inbound, django_capture_on_commit_callbacks
):
    from inbox.models import KnowledgeSnippet, ResponseTemplate

    ResponseTemplate.objects.create(name="prices", intent="pricing", body="Hello {{ contact.first_name }}!")
    KnowledgeSnippet.objects.create(title="Annual plan", body="The annual plan costs $200.", keywords="abonnement")
    anthropic_fake.expect_ordered_request("/v1/messages").respond_with_json(message(GOOD))
    anthropic_fake.expect_ordered_request("/v1/messages").respond_with_json(
        message(
            {"reply": "Bonjour Ana, l'abonnement annuel coûte 200 $.", "used_snippets": ["Annual plan"]},
            name="reply_draft",
        )
    )
    earlier = make_inbound(text="prix ?", sender="old@example.com")
    old = ReplyDraft.objects.create(
        conversation=conversation_ingest(inbound=earlier, classify=False),
        inbound=earlier,
        source="llm",
        text="x",
        intent="pricing",
        status="rejected",
        rejection_reason="Never quote prices without the currency",
    )
    inbound = make_inbound(text="Combien coûte l'abonnement annuel ?")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_ingest(inbound=inbound)
    draft = ReplyDraft.objects.get(inbound=inbound)
    assert old.rejection_reason in json.loads(anthropic_fake.log[1][0].get_data())["messages"][0]["content"]
    assert draft.source == "llm" and draft.text.startswith("Bonjour Ana")
    prompt = json.loads(anthropic_fake.log[1][0].get_data())
    content = prompt["messages"][0]["content"]
    assert "The annual plan costs $200." in content and "Hello Ana!" in content and "Customer: Combien" in content
    assert "draft-v1" in prompt["system"]
    # the reviewer sees which snippets the LLM used, and the draft's language
    assert [snippet.title for snippet in draft.snippets.all()] == ["Annual plan"] and draft.language == "fr"
