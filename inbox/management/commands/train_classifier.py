"""Retrain the local fallback classifier on the fixed train split and write its JSON weights."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand

from inbox.classifier import MODEL_PATH, train_naive_bayes

DEFAULT_TRAIN = Path(__file__).resolve().parents[2] / "data" / "train.jsonl"


class Command(BaseCommand):
    help = "Train the local naive Bayes fallback (intent and sentiment) from a labelled JSONL file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_TRAIN))
        parser.add_argument("--output", default=str(MODEL_PATH))

    def handle(self, *args, **options):
        rows = [json.loads(line) for line in Path(options["file"]).read_text(encoding="utf-8").splitlines() if line]
        model = {
            "version": "1",
            "trained_on": Path(options["file"]).name,
            "rows": len(rows),
            "intent": train_naive_bayes([(r["text"], r["intent"]) for r in rows]),
            "sentiment": train_naive_bayes([(r["text"], r["sentiment"]) for r in rows]),
        }
        Path(options["output"]).write_text(json.dumps(model, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        self.stdout.write(f"trained on {len(rows)} rows → {options['output']}")
