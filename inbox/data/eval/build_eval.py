"""Writes `independent.jsonl` from the hand-written, hand-checked blocks in `{en,fr,es,ht}.txt`.

This split is written separately from the training messages (another style: whole e-mails,
threads, DMs, code-switching) and is never read by training or feature choices. A block is
`=== intent sentiment channel [legal]` followed by the message text, verbatim, up to the next `===`.

    .venv/bin/python inbox/data/eval/build_eval.py
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("en", "fr", "es", "ht")


def parse(path: Path) -> list[dict]:
    rows, header, lines = [], None, []

    def flush():
        if header is not None:
            intent, sentiment, channel, *flags = header
            text = "\n".join(lines).strip()
            row = {"text": text, "channel": channel, "intent": intent, "sentiment": sentiment}
            rows.append(row | {"legal_risk": "legal" in flags})

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            flush()
            header, lines = tuple(line[4:].split()), []
        else:
            lines.append(line)
    flush()
    return [row | {"language": path.stem} for row in rows]


if __name__ == "__main__":
    rows = [row for language in LANGUAGES for row in parse(HERE / f"{language}.txt")]
    with (HERE / "independent.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"independent={len(rows)}")
