"""Retrain the local classifier on the training split and write `inbox/data/local_model.npz`."""

import json
from pathlib import Path

import numpy as np
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
        fitted = train(rows)
        fitted.metadata["trained_on"] = path.name
        with open(options["output"], "wb") as handle:
            np.savez_compressed(handle, **fitted.arrays())
        size = Path(options["output"]).stat().st_size
        self.stdout.write(json.dumps(fitted.metadata | {"bytes": size}, ensure_ascii=False))
