"""The local classifier on messages it never saw: the independent split, opt-outs, legal threats."""

import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from inbox.classifier import MODEL_PATH, classify_local
from inbox.text import detect_language, fold, new_text

DATA = Path(__file__).resolve().parents[1] / "data"
INDEPENDENT = DATA / "eval" / "independent.jsonl"
# By another writer and method, measured once and never used for a choice (inbox/data/README.md).
SECOND = DATA / "eval" / "second.jsonl"
# Half opt-outs said many ways, half hard negatives; written before the opt-out rules were widened (session 5).
THIRD = DATA / "eval" / "third.jsonl"
# Carrier opt-out keywords (with a please) are the same everywhere; they may appear in both splits.
CANONICAL = {"stop", "baja", "unsubscribe", "arret", "please", "sms"}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _report(path: Path, django_db_blocker) -> dict:
    out = StringIO()
    with django_db_blocker.unblock():
        call_command("evaluate_classifier", str(path), "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def independent_report(django_db_setup, django_db_blocker):
    return _report(INDEPENDENT, django_db_blocker)


@pytest.fixture(scope="module")
def second_report(django_db_setup, django_db_blocker):
    return _report(SECOND, django_db_blocker)


@pytest.fixture(scope="module")
def third_report(django_db_setup, django_db_blocker):
    return _report(THIRD, django_db_blocker)


def test_independent_split_meets_the_accuracy_goals(independent_report):
    report = independent_report
    assert report["engine"] == "local" and report["messages"] >= 200
    assert report["intent_accuracy"] >= 0.85
    assert report["macro_f1"] >= 0.80
    assert report["sentiment_accuracy"] >= 0.85
    assert set(report["recall"]) == {
        "question",
        "purchase_intent",
        "pricing",
        "meeting_request",
        "support_issue",
        "complaint",
        "unsubscribe_request",
        "out_of_office",
        "spam",
        "positive_feedback",
        "other",
    }


def test_independent_split_meets_the_calibration_goal(independent_report):
    # Was 0.064 with a head refitted on all rows; the shipped head is now the mean of the
    # cross-validation heads whose held-out scores set the temperature (inbox/training.py).
    assert independent_report["ece"] <= 0.05


def test_independent_split_meets_the_safety_goals(independent_report):
    assert independent_report["recall"]["unsubscribe_request"] >= 0.98
    assert independent_report["legal_risk"]["labelled"] == independent_report["messages"]
    assert independent_report["legal_risk"]["recall"] >= 0.95


def test_auto_send_threshold_has_the_precision_it_claims(independent_report):
    auto = independent_report["auto_send"]
    assert auto["eligible"] >= 40
    assert auto["precision"] >= 0.97


def test_second_set_meets_the_accuracy_and_legal_goals(second_report):
    report = second_report
    assert report["messages"] == 100 and len(report["recall"]) == 11
    assert report["intent_accuracy"] >= 0.85
    assert report["macro_f1"] >= 0.80
    assert report["sentiment_accuracy"] >= 0.85
    assert report["legal_risk"]["recall"] >= 0.95
    assert report["auto_send"]["precision"] >= 0.97


def test_second_set_meets_the_unsubscribe_goal(second_report):
    # Met since session 5 (the opt-out wording families widened in rules and training, not these sentences).
    assert second_report["recall"]["unsubscribe_request"] >= 0.98


def test_second_set_meets_the_calibration_goal(second_report):
    # 0.069 before session 5, 0.040 after: the opt-outs it missed were confident errors; sarcasm is still misread.
    assert second_report["ece"] <= 0.05


def test_third_set_meets_the_unsubscribe_goals(third_report):
    report = third_report
    assert report["messages"] == 88 and report["per_intent"]["unsubscribe_request"]["support"] == 44
    assert report["recall"]["unsubscribe_request"] >= 0.98
    assert report["precision"]["unsubscribe_request"] >= 0.95


@pytest.mark.parametrize("path", [INDEPENDENT, SECOND, THIRD], ids=["independent", "second", "third"])
def test_evaluation_sets_share_no_message_with_training(path):
    def words(text):
        return set(re.findall(r"\w+", fold(new_text(text))))

    training = [words(row["text"]) for row in _rows(DATA / "train.jsonl") if row["variant"] == "as_written"]
    for row in _rows(path):
        held_out = words(row["text"])
        if held_out <= CANONICAL:
            continue
        closest = max(len(held_out & seen) / len(held_out | seen) for seen in training)
        assert closest < 0.8, row["text"]


def test_refund_threat_is_a_negative_complaint_with_legal_risk():
    result = classify_local("I want a refund NOW or I will dispute the charge and call my lawyer")
    assert (result.intent, result.sentiment_label, result.legal_risk) == ("complaint", "negative", True)
    assert result.sentiment_score < 0


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "Stop pls",
        "unsubscribe me",
        "take me off your list",
        "ARRET",
        "Désabonnez-moi",
        "ne m'envoyez plus rien",
        "BAJA",
        "no me manden más mensajes",
        "pa voye m anyen ankò",
        "retire m",
        "Tanpri retire m nan lis la",
        "M pa vle resevwa mesaj ankò",
        "<p>Please remove me from your mailing list</p>",
    ],
)
def test_opt_outs_are_recognised_in_every_language(text):
    assert classify_local(text).intent == "unsubscribe_request"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "How much is the premium plan?\n\nOn Mon, 3 Nov 2026, Madan Sara <a@b.example> wrote:\n> Reply STOP to "
            "unsubscribe",
            "pricing",
        ),
        (
            '<div>How much is the premium plan?</div><div class="gmail_quote"><blockquote>Reply STOP to unsubscribe'
            "</blockquote></div>",
            "pricing",
        ),
        ("Ki pri pou 10 lanp?\n\nReponn STOP pou w pa resevwa mesaj ankò.", "pricing"),
    ],
)
def test_opt_out_wording_in_quoted_history_or_our_footer_is_ignored(text, intent):
    assert classify_local(text).intent == intent


@pytest.mark.parametrize(
    "text",
    ["my lamp stopped working yesterday", "yo pa voye m kòmand mwen an toujou", "can I stop by the shop tomorrow?"],
)
def test_stop_in_other_senses_is_not_an_opt_out(text):
    assert classify_local(text).intent != "unsubscribe_request"


@pytest.mark.parametrize(
    "text",
    [
        "If this is not fixed I will take you to court",
        "Je vais saisir mon avocat",
        "Voy a poner una demanda",
        "M ap mennen nou lajistis",
        "I'll ask my bank for a chargeback",
    ],
)
def test_legal_wording_is_flagged_in_every_language(text):
    assert classify_local(text).legal_risk


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Do you deliver to Jacmel on Saturdays?", "en"),
        ("Est-ce que vous livrez à Jacmel le samedi ?", "fr"),
        ("¿Hacen entregas en Jacmel los sábados?", "es"),
        ("Eske nou livre Jakmèl samdi?", "ht"),
        ("m pa vle resevwa mesaj nou yo ankò", "ht"),
    ],
)
def test_language_is_detected_among_the_four(text, language):
    assert detect_language(text) == language


def test_classification_is_deterministic_and_the_artefact_small():
    text = "Bonjou, konbyen lanp solè a koute?"
    assert classify_local(text) == classify_local(text)
    assert MODEL_PATH.stat().st_size <= 20 * 1024 * 1024
