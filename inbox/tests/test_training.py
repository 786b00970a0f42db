"""Training the local classifier: the exported arrays score exactly like scikit-learn, every time."""

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from inbox.classifier import LocalModel, char_terms, prepare, word_terms
from inbox.training import train

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def sample_rows():
    rows = [json.loads(line) for line in (DATA / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    return rows[::12]


def test_exported_arrays_score_like_scikit_learn(sample_rows, tmp_path):
    fitted = train(sample_rows, c_grid=(10.0,))
    path = tmp_path / "model.npz"
    np.savez_compressed(path, **fitted.arrays())
    model = LocalModel.load(path)
    texts = [prepare(row["text"]) for row in sample_rows[:150]] + [prepare("Ki pri l? 😍 <b>STOP</b>"), ""]
    features = fitted.vectorizer.transform(texts)
    intent_ref, sentiment_ref = fitted.intent.decision_function(features), fitted.sentiment.decision_function(features)
    for i, text in enumerate(texts):
        intent, sentiment = model.scores(text)
        assert np.allclose(intent, intent_ref[i], atol=1e-4)
        assert np.allclose(sentiment, sentiment_ref[i], atol=1e-4)


def test_training_is_deterministic(sample_rows):
    first, second = train(sample_rows[:300], c_grid=(10.0,)), train(sample_rows[:300], c_grid=(10.0,))
    a, b = first.arrays(), second.arrays()
    assert all(np.array_equal(a[name], b[name]) for name in a)


def test_analyzers_match_scikit_learn_on_short_and_long_words(sample_rows):
    fitted = train(sample_rows[:200], c_grid=(10.0,))
    words, chars = (dict(fitted.vectorizer.transformer_list)[name] for name in ("words", "chars"))
    for text in ["a", "ok ?", "mwen pa ka peye $20!!", "desabonnez-moi svp 🙏"]:
        assert sorted(word_terms(text)) == sorted(words.build_analyzer()(text))
        assert sorted(char_terms(text)) == sorted(chars.build_analyzer()(text))


@pytest.mark.django_db
def test_train_classifier_command_writes_a_loadable_model(sample_rows, tmp_path):
    source = tmp_path / "rows.jsonl"
    source.write_text("\n".join(json.dumps(row) for row in sample_rows[:250]), encoding="utf-8")
    output = tmp_path / "out.npz"
    call_command("train_classifier", str(source), "--output", str(output))
    model = LocalModel.load(output)
    assert model.metadata["rows"] == 250 and model.metadata["trained_on"] == "rows.jsonl"
    assert set(model.intent_classes) <= {row["intent"] for row in sample_rows}
