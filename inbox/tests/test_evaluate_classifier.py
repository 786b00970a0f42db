"""`manage.py evaluate_classifier`: the report's measures, its inputs, and the LLM path."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inbox.evaluation import expected_calibration_error

pytestmark = pytest.mark.django_db

ROWS = [
    {"text": "How much is the premium plan?", "channel": "email", "intent": "pricing", "sentiment": "neutral"},
    {"text": "STOP", "channel": "sms", "intent": "unsubscribe_request", "sentiment": "neutral", "language": "en"},
    {
        "text": "Thank you so much, the lamp is amazing!",
        "channel": "whatsapp",
        "intent": "positive_feedback",
        "sentiment": "positive",
        "legal_risk": False,
    },
]


@pytest.fixture
def jsonl(tmp_path):
    def write(rows):
        path = tmp_path / "set.jsonl"
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        return str(path)

    return write


def _run(*args) -> dict:
    out = StringIO()
    call_command("evaluate_classifier", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_json_report_has_the_documented_measures(jsonl):
    report = _run(jsonl(ROWS))
    assert report["engine"] == "local" and report["messages"] == 3
    assert report["intent_accuracy"] == 1.0 and report["sentiment_accuracy"] == 1.0
    assert report["macro_f1"] == 1.0
    assert report["recall"] == {"positive_feedback": 1.0, "pricing": 1.0, "unsubscribe_request": 1.0}
    assert report["confusion"]["pricing"]["pricing"] == 1
    assert 0.0 <= report["ece"] <= 1.0
    assert report["auto_send"]["threshold"] == 0.98
    assert report["language_accuracy"] == 1.0


def test_wrong_labels_lower_accuracy_recall_and_f1(jsonl):
    rows = [dict(ROWS[0], intent="complaint"), ROWS[1], ROWS[2]]
    report = _run(jsonl(rows))
    assert report["intent_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["recall"]["complaint"] == 0.0
    assert report["per_intent"]["pricing"]["precision"] == 0.0
    assert report["macro_f1"] < 1.0


def test_human_readable_report_and_threshold_option(jsonl):
    out = StringIO()
    call_command("evaluate_classifier", jsonl(ROWS), "--threshold", "0.99", stdout=out)
    text = out.getvalue()
    assert "intent accuracy: 100.0%" in text and "macro-F1" in text and "auto-send at ≥ 0.99" in text


def test_rows_without_labels_are_refused(jsonl):
    with pytest.raises(CommandError, match="lack text, intent or sentiment"):
        call_command("evaluate_classifier", jsonl([{"text": "hi", "channel": "sms"}]))


def test_llm_engine_needs_a_key(jsonl, settings):
    settings.ANTHROPIC_API_KEY = ""
    with pytest.raises(CommandError, match="needs ANTHROPIC_API_KEY"):
        call_command("evaluate_classifier", jsonl(ROWS), "--engine", "llm")


def _tool_message(tool_input):
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-test-1",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": "record_classification", "input": tool_input}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
    }


def test_llm_engine_scores_the_anthropic_answers(jsonl, httpserver, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/")
    settings.ANTHROPIC_MODEL = "claude-test-1"
    answers = [("pricing", "neutral", 0.0), ("unsubscribe_request", "neutral", 0.0), ("other", "positive", 0.8)]
    for intent, label, score in answers:
        httpserver.expect_ordered_request("/v1/messages", method="POST").respond_with_json(
            _tool_message(
                {
                    "intent": intent,
                    "sentiment_label": label,
                    "sentiment_score": score,
                    "urgency": "normal",
                    "language": "en",
                    "confidence": 0.9,
                    "legal_risk": False,
                }
            )
        )
    report = _run(jsonl(ROWS), "--engine", "llm")
    assert report["engine"] == "llm" and len(httpserver.log) == 3
    assert report["intent_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["recall"]["positive_feedback"] == 0.0
    sent = json.loads(httpserver.log[1][0].get_data())
    assert "STOP" in sent["messages"][0]["content"]


def test_llm_engine_reports_a_failed_call(jsonl, httpserver, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/")
    httpserver.expect_request("/v1/messages").respond_with_json(
        {"type": "error", "error": {"type": "authentication_error", "message": "bad key"}}, status=401
    )
    with pytest.raises(CommandError, match="LLM failed on line 1: LLM API error 401"):
        call_command("evaluate_classifier", jsonl(ROWS), "--engine", "llm")


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_grows_when_overconfident():
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)
    assert expected_calibration_error([0.95] * 4, [True, False, True, False]) == pytest.approx(0.45)
