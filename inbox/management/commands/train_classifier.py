"""Retrain the local classifier on the training split and write `inbox/data/local_model.joblib`."""

import json
from pathlib import Path

import joblib
from django.core.management.base import BaseCommand

from inbox.classifier import MODEL_PATH
from inbox.training import train

DEFAULT_TRAIN = Path(__file__).resolve().parents[2] / "data" / "train.jsonl"


class Command(BaseCommand):
    help = "Train the local classifier (intent and sentiment heads) from a labelled JSONL file."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_TRAIN))
        parser.add_argument("--output", default=str(MODEL_PATH))

    def handle(self, *args, **options):
        path = Path(options["file"])
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        model = train(rows)
        model.metadata["trained_on"] = path.name
        joblib.dump(model, options["output"], compress=3)
        size = Path(options["output"]).stat().st_size
        self.stdout.write(json.dumps(model.metadata | {"bytes": size}, ensure_ascii=False))
