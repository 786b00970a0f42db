"""`manage.py best_practices` works from files alone: the contract's formats, errors and features."""

import orjson
import pytest
from django.core.management import CommandError, call_command

from bestpractices.features import FEATURES, send_features
from bestpractices.synthetic import sends_generate


def features_of(**record):
    return dict(zip(FEATURES, send_features(record), strict=True))


def test_the_issue_example_send_has_the_contract_feature_values():
    got = features_of(
        send_id="s1",
        channel="email",
        sent_at="2026-10-02T09:14:00-04:00",
        contact={"first_name": "Ana", "customer_type": "new", "lifecycle_stage": "lead", "language": "en"},
        subject="Ana, ready for spring?",
        body="…",
    )
    assert got["subject_question"] is True
    assert got["subject_emoji"] is False
    assert got["subject_personalised"] is True
    assert got["subject_length"] == "short"
    assert got["send_hour_local"] == "morning"  # 09:14 in the send's own offset, not 13:14 UTC
    assert got["weekday"] == "fri"
    assert got["channel"] == "email"
    assert got["customer_type"] == "new"


def test_hour_and_weekday_are_read_in_the_sends_own_offset():
    got = features_of(channel="sms", sent_at="2026-10-03T00:30:00+05:30", contact={}, subject="", body="hi")
    assert (got["send_hour_local"], got["weekday"]) == ("night", "sat")  # Friday 19:00 in UTC
    got = features_of(channel="email", sent_at="2026-10-02T18:00:00Z", contact={}, subject="x", body="")
    assert (got["send_hour_local"], got["weekday"]) == ("evening", "fri")


@pytest.mark.parametrize(
    ("subject", "length"),
    [("a" * 30, "short"), ("a" * 31, "medium"), ("a" * 60, "medium"), ("a" * 61, "long"), ("", "short")],
)
def test_subject_length_buckets(subject, length):
    assert features_of(subject=subject)["subject_length"] == length


def test_subject_text_features():
    got = features_of(subject="🎉 Last chance, Bruno: 20% off", contact={"first_name": "Bruno"}, body="Shop now")
    assert got["subject_emoji"] and got["subject_personalised"] and got["subject_number"] and got["urgency"]
    assert got["cta"] == "buy"
    assert not features_of(subject="Brunoise recipes", contact={"first_name": "Bruno"})["subject_personalised"]
    assert features_of(subject="Hi {{first_name}}!", contact={})["subject_personalised"]


def test_channels_without_a_subject_have_no_subject_features():
    got = features_of(
        channel="whatsapp", subject="", body="Ana, your order ships today? Reply YES", contact={"first_name": "Ana"}
    )
    assert not got["subject_question"] and not got["subject_emoji"] and not got["subject_personalised"]
    assert got["body_question"] and got["body_personalised"] and got["urgency"]
    assert got["channel"] == "whatsapp" and got["customer_type"] == "unknown"


def write_sends(path, records):
    path.write_bytes(b"".join(orjson.dumps({k: v for k, v in r.items() if k != "_features"}) + b"\n" for r in records))


def test_extract_then_predict_from_files_alone(tmp_path):
    """No database: the command runs without the `db` fixture (pytest-django would refuse a query)."""
    sends, held_out = tmp_path / "sends.jsonl", tmp_path / "held_out.jsonl"
    write_sends(sends, sends_generate(8000, seed=5))
    write_sends(held_out, sends_generate(300, seed=6))
    call_command("best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "patterns.json"))
    patterns = orjson.loads((tmp_path / "patterns.json").read_bytes())
    assert patterns["n_sends"] == 8000 and patterns["patterns"]
    assert {row["feature"] for row in patterns["patterns"]} >= {
        "subject_length",
        "send_hour_local",
        "weekday",
        "channel",
    }

    call_command(
        "best_practices", "predict", "--model", str(tmp_path / "patterns.json"), "--input", str(held_out),
        "--output", str(tmp_path / "pred.jsonl"),
    )  # fmt: skip
    lines = [orjson.loads(line) for line in (tmp_path / "pred.jsonl").read_bytes().splitlines()]
    assert [line["send_id"] for line in lines] == [f"s6-{i}" for i in range(300)]
    for line in lines:
        assert set(line["p"]) == {"delivered", "opened", "clicked", "replied", "converted", "unsubscribed"}
        assert all(0 < p < 1 for p in line["p"].values())


def test_a_malformed_line_stops_with_its_line_number(tmp_path):
    sends = tmp_path / "sends.jsonl"
    good = orjson.dumps({"send_id": "a", "channel": "sms", "outcomes": {"clicked": True}})
    sends.write_bytes(good + b"\n\n" + good + b"\n{not json\n" + good + b"\n")
    with pytest.raises(CommandError, match="line 4: not valid JSON"):
        call_command("best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "p.json"))
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'["a list"]', "must be a JSON object"),
        (b'{"sent_at": "next tuesday"}', "sent_at is not ISO 8601"),
        (b'{"outcomes": {"opened": "yes"}}', "true, false or null"),
        (b'{"outcomes": [true]}', "outcomes must be an object"),
        (b'{"contact": "Ana"}', "contact must be an object"),
    ],
)
def test_unreadable_sends_name_line_and_reason(tmp_path, line, reason):
    sends = tmp_path / "sends.jsonl"
    sends.write_bytes(b'{"send_id": "ok"}\n' + line + b"\n")
    with pytest.raises(CommandError, match=f"line 2: .*{reason}"):
        call_command("best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "p.json"))


def test_skip_invalid_skips_and_reports_the_lines(tmp_path):
    sends = tmp_path / "sends.jsonl"
    records = list(sends_generate(2000, seed=7))
    write_sends(sends, records)
    sends.write_bytes(sends.read_bytes() + b"garbage\n" + b'{"outcomes": {"opened": 3}}\n')
    call_command(
        "best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "p.json"), "--skip-invalid"
    )
    patterns = orjson.loads((tmp_path / "p.json").read_bytes())
    assert patterns["n_sends"] == 2000
    assert [s["line"] for s in patterns["skipped_lines"]] == [2001, 2002]


def test_null_outcome_means_not_measured(tmp_path):
    from bestpractices.engine import patterns_extract
    from bestpractices.sends import sends_read

    lines = [
        orjson.dumps({"channel": "email", "outcomes": {"opened": i % 3 == 0, "clicked": None if i % 2 else i % 5 == 0}})
        for i in range(400)
    ]
    patterns = patterns_extract(sends_read(lines))
    assert patterns["outcomes"]["opened"]["n"] == 400
    assert patterns["outcomes"]["clicked"]["n"] == 200


def test_an_outcome_never_seen_is_predicted_rare_not_impossible(tmp_path):
    # Given 40 sends, none converted, and 1 of 1 measured clicks (too few to model either)
    lines = [
        {"send_id": f"s{i}", "channel": "email", "outcomes": {"opened": i % 2 == 0, "converted": False}}
        for i in range(40)
    ]
    lines[0]["outcomes"]["clicked"] = True
    sends = tmp_path / "sends.jsonl"
    write_sends(sends, lines)

    # When the engine extracts and predicts from the files
    call_command("best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "p.json"))
    call_command(
        "best_practices", "predict", "--model", str(tmp_path / "p.json"), "--input", str(sends),
        "--output", str(tmp_path / "pred.jsonl"),
    )  # fmt: skip

    # Then the predictions are Jeffreys estimates, (s + ½) / (n + 1), never a certainty
    p = orjson.loads((tmp_path / "pred.jsonl").read_bytes().splitlines()[0])["p"]
    assert p["converted"] == pytest.approx(0.5 / 41)
    assert p["clicked"] == pytest.approx(1.5 / 2)


def test_evaluate_reports_brier_against_the_base_rate_and_a_reliability_table(tmp_path, capsys):
    sends, held_out = tmp_path / "sends.jsonl", tmp_path / "held_out.jsonl"
    write_sends(sends, sends_generate(20000, seed=8))
    write_sends(held_out, sends_generate(5000, seed=9))
    call_command("best_practices", "extract", "--input", str(sends), "--output", str(tmp_path / "p.json"))
    call_command(
        "best_practices", "evaluate", "--model", str(tmp_path / "p.json"), "--input", str(held_out),
        "--output", str(tmp_path / "report.json"),
    )  # fmt: skip
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["opened"]["brier"] < report["opened"]["brier_base_rate"]
    assert sum(row["n"] for row in report["opened"]["reliability"]) == report["opened"]["n"]
    assert "mean predicted" in capsys.readouterr().out


def test_a_large_file_is_read_in_parallel_with_the_files_own_line_numbers(tmp_path):
    from bestpractices.sends import sends_read, sends_read_path

    path = tmp_path / "sends.jsonl"
    records = list(sends_generate(3000, seed=12))
    write_sends(path, records)
    lines = path.read_bytes().splitlines()
    lines[2500] = b"{broken"
    lines.insert(10, b"")
    path.write_bytes(b"\n".join(lines) + b"\n")
    single = sends_read(path.read_bytes().splitlines(), strict=False)
    parallel = sends_read_path(str(path), strict=False, workers=2)
    assert parallel.skipped == single.skipped == [(2502, parallel.skipped[0][1])]
    assert parallel.n_sends == single.n_sends == 2999
    assert [parallel.cells[c] for c in parallel.cell_of_send] == [single.cells[c] for c in single.cell_of_send]
    assert parallel.outcomes == single.outcomes
    assert [parallel.campaign_names[c] for c in parallel.campaign_of_send] == [
        single.campaign_names[c] for c in single.campaign_of_send
    ]
    with pytest.raises(Exception, match="line 2502: not valid JSON"):
        sends_read_path(str(path), strict=True, workers=2)
