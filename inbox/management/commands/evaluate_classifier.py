"""Score the configured classifier on a labelled JSONL file (text, channel, intent, sentiment)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inbox.services.classification import classify_text


def evaluate(rows: list[dict]) -> dict:
    """Accuracy, per-intent precision/recall, confusion matrix and sentiment agreement."""
    pairs, sentiment_hits, engine = [], 0, ""
    for row in rows:
        result = classify_text(text=row["text"], channel=row.get("channel", "email"))
        engine = result.engine
        pairs.append((row["intent"], result.intent))
        sentiment_hits += result.sentiment_label == row.get("sentiment")
    labels = sorted({t for t, _ in pairs} | {p for _, p in pairs})
    confusion = {t: dict.fromkeys(labels, 0) for t in labels}
    for truth, predicted in pairs:
        confusion[truth][predicted] += 1
    per_intent = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[t][label] for t in labels)
        actual = sum(confusion[label].values())
        per_intent[label] = {
            "precision": round(tp / predicted, 3) if predicted else 0.0,
            "recall": round(tp / actual, 3) if actual else 0.0,
            "support": actual,
        }
    total = len(pairs)
    return {
        "engine": engine,
        "messages": total,
        "intent_accuracy": round(sum(t == p for t, p in pairs) / total, 4) if total else 0.0,
        "sentiment_agreement": round(sentiment_hits / total, 4) if total else 0.0,
        "per_intent": per_intent,
        "confusion": confusion,
    }


class Command(BaseCommand):
    help = "Evaluate the configured classifier (LLM when ANTHROPIC_API_KEY is set, else local) on a JSONL file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="Print one machine-readable JSON object")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not JSON lines ({exc})") from exc
        report = evaluate(rows)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
            return
        self.stdout.write(f"engine: {report['engine']}  messages: {report['messages']}")
        self.stdout.write(f"intent accuracy: {report['intent_accuracy']:.1%}")
        self.stdout.write(f"sentiment agreement: {report['sentiment_agreement']:.1%}")
        self.stdout.write(f"{'intent':22} precision recall support")
        for label, scores in report["per_intent"].items():
            self.stdout.write(f"{label:22} {scores['precision']:9.3f} {scores['recall']:6.3f} {scores['support']:7}")
        labels = list(report["confusion"])
        self.stdout.write("confusion (rows: truth, columns: predicted, in the order above)")
        for label in labels:
            self.stdout.write(f"{label:22} " + " ".join(f"{report['confusion'][label][p]:3}" for p in labels))
