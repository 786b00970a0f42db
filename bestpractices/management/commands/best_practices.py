"""manage.py best_practices extract | predict | evaluate | generate: the engine on files alone."""

import time

import orjson
from django.core.management.base import BaseCommand, CommandError

from bestpractices import files
from bestpractices.sends import SendFileError
from bestpractices.synthetic import sends_generate


class Command(BaseCommand):
    help = "Learn patterns from a sends file, predict outcomes of sends, report calibration (no database needed)."
    requires_system_checks = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        extract = sub.add_parser("extract", help="sends JSONL -> patterns JSON (effects, CIs, the model)")
        extract.add_argument("--input", required=True, help="sends file, one JSON object per line ('-': stdin)")
        extract.add_argument("--output", required=True, help="patterns file to write")
        extract.add_argument("--alpha", type=float, default=0.05, help="family-wise error rate (default 0.05)")
        predict = sub.add_parser("predict", help="patterns JSON + sends JSONL -> predictions JSONL")
        predict.add_argument("--model", required=True, help="a patterns file written by extract")
        predict.add_argument("--input", required=True)
        predict.add_argument("--output", required=True)
        evaluate = sub.add_parser("evaluate", help="Brier score vs base rate and reliability table on held-out sends")
        evaluate.add_argument("--model", required=True)
        evaluate.add_argument("--input", required=True)
        evaluate.add_argument("--output", help="also write the report as JSON here")
        generate = sub.add_parser("generate", help="synthetic sends with planted, confounded effects")
        generate.add_argument("--output", required=True)
        generate.add_argument("--sends", type=int, default=100_000)
        generate.add_argument("--seed", type=int, default=0)
        for each in (extract, predict, evaluate):
            each.add_argument(
                "--skip-invalid",
                action="store_true",
                help="skip unreadable lines (reported) instead of stopping at the first one",
            )

    def handle(self, *args, action, **options):
        strict = not options.get("skip_invalid")
        started = time.perf_counter()
        try:
            if action == "extract":
                patterns = files.patterns_extract_file(
                    input_path=options["input"], output_path=options["output"], strict=strict, alpha=options["alpha"]
                )
                significant = sum(row["significant"] for row in patterns["patterns"])
                self.stderr.write(
                    f"{patterns['n_sends']} sends, {len(patterns['patterns'])} patterns, {significant} significant "
                    f"(Bonferroni, FWER {options['alpha']}); {len(patterns['skipped_lines'])} lines skipped; "
                    f"{time.perf_counter() - started:.1f}s"
                )
            elif action == "predict":
                count = files.predictions_write(
                    model_path=options["model"],
                    input_path=options["input"],
                    output_path=options["output"],
                    strict=strict,
                )
                self.stderr.write(f"{count} predictions written in {time.perf_counter() - started:.1f}s")
            elif action == "evaluate":
                report = files.calibration_report(
                    model_path=options["model"], input_path=options["input"], strict=strict
                )
                self.stdout.write(calibration_text(report))
                if options.get("output"):
                    with open(options["output"], "wb") as out:
                        out.write(orjson.dumps(report, option=orjson.OPT_INDENT_2))
            else:
                with open(options["output"], "wb") as out:
                    for record in sends_generate(options["sends"], seed=options["seed"]):
                        record.pop("_features")
                        out.write(orjson.dumps(record) + b"\n")
        except SendFileError as exc:
            raise CommandError(f"{options.get('input')}: {exc} (use --skip-invalid to skip such lines)") from exc
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc


def calibration_text(report: dict) -> str:
    lines = []
    for outcome, stats in report.items():
        verdict = "better" if stats["brier"] < stats["brier_base_rate"] else "NOT better"
        lines.append(
            f"{outcome}: n={stats['n']} Brier {stats['brier']:.5f} vs base rate {stats['brier_base_rate']:.5f} "
            f"({verdict}), ECE {stats['expected_calibration_error']:.4f}"
        )
        lines.append("  predicted bin        n   mean predicted   observed")
        for row in stats["reliability"]:
            lines.append(
                f"  {row['p_low']:.3f}-{row['p_high']:.3f} {row['n']:>8} {row['predicted']:>16.4f} {row['observed']:>10.4f}"
            )
    return "\n".join(lines) + "\n"
