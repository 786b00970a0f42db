"""Score the local model or the LLM path on a labelled JSONL file (text, channel, intent, sentiment)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inbox.classifier import classify_llm, classify_local
from inbox.evaluation import AutoSendRule, report
from inbox.models import AutoSendSettings
from inbox.services.classification import configured_intents
from inbox.services.drafts import NEVER_AUTO_INTENTS
from madansara.llm import LLMError, llm_available


def _read(path: Path) -> list[dict]:
    if not path.exists():
        raise CommandError(f"No such file: {path}")
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise CommandError(f"{path}: not JSON lines ({exc})") from exc
    missing = [i for i, row in enumerate(rows, 1) if not {"text", "intent", "sentiment"} <= set(row)]
    if missing:
        raise CommandError(f"{path}: lines {missing[:5]} lack text, intent or sentiment")
    return rows


class Command(BaseCommand):
    help = "Evaluate the local classifier or the LLM path on a labelled JSONL file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--engine", choices=["local", "llm"], default="local")
        parser.add_argument("--threshold", type=float, help="Auto-send confidence (default: the configured floor)")
        parser.add_argument("--json", action="store_true", help="Print one machine-readable JSON object")

    def handle(self, *args, **options):
        rows = _read(Path(options["file"]))
        intents = configured_intents()
        if options["engine"] == "llm" and not llm_available():
            raise CommandError("--engine llm needs ANTHROPIC_API_KEY")
        results = []
        for row in rows:
            channel = row.get("channel") or "email"
            if options["engine"] == "llm":
                try:
                    results.append(classify_llm(row["text"], channel=channel, intents=intents))
                except LLMError as exc:
                    raise CommandError(f"LLM failed on line {len(results) + 1}: {exc.message}") from exc
            else:
                results.append(classify_local(row["text"], allowed_intents=set(intents)))
        settings = AutoSendSettings.current()
        rule = AutoSendRule(
            threshold=options["threshold"] if options["threshold"] is not None else settings.minimum_confidence,
            negative_sentiment_threshold=settings.negative_sentiment_threshold,
            never_intents=frozenset(NEVER_AUTO_INTENTS),
        )
        scores = report(rows, results, rule=rule)
        if options["json"]:
            self.stdout.write(json.dumps(scores, ensure_ascii=False))
            return
        self._print(scores)

    def _print(self, scores: dict) -> None:
        out = self.stdout.write
        out(f"engine: {scores['engine']}  messages: {scores['messages']}")
        out(f"intent accuracy: {scores['intent_accuracy']:.1%}   macro-F1: {scores['macro_f1']:.3f}")
        out(f"sentiment accuracy: {scores['sentiment_accuracy']:.1%}   calibration error (ECE): {scores['ece']:.3f}")
        auto = scores["auto_send"]
        precision = "n/a" if auto["precision"] is None else f"{auto['precision']:.1%}"
        out(f"auto-send at ≥ {auto['threshold']:.2f}: {auto['eligible']} eligible, precision {precision}")
        if scores["legal_risk"]["labelled"]:
            out(f"legal-risk recall: {scores['legal_risk']['recall']}  precision: {scores['legal_risk']['precision']}")
        if scores["language_accuracy"] is not None:
            out(f"language accuracy: {scores['language_accuracy']:.1%}")
        out(f"{'intent':22} precision recall     f1 support")
        for label, s in scores["per_intent"].items():
            out(f"{label:22} {s['precision']:9.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:7}")
        labels = list(scores["confusion"])
        out("confusion (rows: truth, columns: predicted, in the order above)")
        for label in labels:
            out(f"{label:22} " + " ".join(f"{scores['confusion'][label][p]:3}" for p in labels))
