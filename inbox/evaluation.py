"""Scoring a classifier on labelled messages: accuracy, macro-F1, calibration, safety recall.

Pure functions over (truth row, Classification) pairs, so the local model and the LLM path are
scored the same way (`manage.py evaluate_classifier`, tests, the benchmark).
"""

from dataclasses import dataclass

import numpy as np

from inbox.classifier import Classification

ECE_BINS = 10


@dataclass(frozen=True)
class AutoSendRule:
    """What makes a classification eligible for auto-send (the hard rules of `auto_send_refusal`)."""

    threshold: float
    negative_sentiment_threshold: float
    never_intents: frozenset[str]

    def eligible(self, result: Classification) -> bool:
        return (
            result.confidence >= self.threshold
            and result.intent not in self.never_intents
            and not result.legal_risk
            and result.sentiment_score >= self.negative_sentiment_threshold
        )


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = ECE_BINS) -> float:
    """Top-label ECE: the weighted gap between confidence and accuracy over equal-width bins."""
    conf, hits = np.asarray(confidences, dtype=float), np.asarray(correct, dtype=float)
    if not conf.size:
        return 0.0
    index = np.minimum((conf * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            gap += mask.mean() * abs(conf[mask].mean() - hits[mask].mean())
    return float(gap)


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def report(rows: list[dict], results: list[Classification], *, rule: AutoSendRule) -> dict:
    """The evaluation report (JSON-ready) for rows with `intent`, `sentiment`, optional
    `language` and `legal_risk`, and the classifier's results in the same order."""
    truth = [row["intent"] for row in rows]
    predicted = [result.intent for result in results]
    labels = sorted(set(truth) | set(predicted))
    confusion = {t: dict.fromkeys(labels, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_intent, f1s = {}, []
    for label in labels:
        tp = confusion[label][label]
        n_pred = sum(confusion[t][label] for t in labels)
        n_true = sum(confusion[label].values())
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "support": n_true,
        }
        if n_true:
            f1s.append(f1)
    total = len(rows)
    correct = [t == p for t, p in zip(truth, predicted, strict=True)]
    sentiment_hits = sum(r.sentiment_label == row.get("sentiment") for row, r in zip(rows, results, strict=True))
    eligible = [ok for ok, r in zip(correct, results, strict=True) if rule.eligible(r)]
    legal_rows = [(row, r) for row, r in zip(rows, results, strict=True) if "legal_risk" in row]
    legal_true = [r for row, r in legal_rows if row["legal_risk"]]
    language_rows = [(row, r) for row, r in zip(rows, results, strict=True) if row.get("language")]
    return {
        "engine": results[0].engine if results else "",
        "messages": total,
        "intent_accuracy": _ratio(sum(correct), total) or 0.0,
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else 0.0,
        "sentiment_accuracy": _ratio(sentiment_hits, total) or 0.0,
        "ece": round(expected_calibration_error([r.confidence for r in results], correct), 4),
        "recall": {label: scores["recall"] for label, scores in per_intent.items() if scores["support"]},
        "precision": {label: scores["precision"] for label, scores in per_intent.items()},
        "per_intent": per_intent,
        "confusion": confusion,
        "auto_send": {
            "threshold": rule.threshold,
            "eligible": len(eligible),
            "coverage": _ratio(len(eligible), total),
            "precision": _ratio(sum(eligible), len(eligible)),
        },
        "legal_risk": {
            "labelled": len(legal_rows),
            "recall": _ratio(sum(r.legal_risk for r in legal_true), len(legal_true)),
            "precision": _ratio(
                sum(bool(row["legal_risk"]) for row, r in legal_rows if r.legal_risk),
                sum(r.legal_risk for _, r in legal_rows),
            ),
        },
        "language_accuracy": _ratio(sum(row["language"] == r.language for row, r in language_rows), len(language_rows)),
    }
