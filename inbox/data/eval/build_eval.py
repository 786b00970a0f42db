"""Writes the evaluation sets from hand-written, hand-checked blocks:
`independent.jsonl` from `{en,fr,es,ht}.txt`, `second.jsonl` from `second/{en,fr,es,ht}.txt` and
`third.jsonl` from `third/{en,fr,es,ht}.txt`.

Both are written separately from the training messages and never read by training or feature
choices. `second/` is by another writer and method (other businesses: clinic, gym, internet
provider, bakery, school, bank; sarcasm, code-switching, opt-outs said indirectly), written in
one sitting before any measurement on it. `third/` is half opt-outs said in many direct and indirect
ways, half hard negatives that must not read as opt-outs, written before the opt-out rules were
widened (issue 16, session 5). A block is `=== intent sentiment channel [legal]`
followed by the message text, verbatim, up to the next `===`.

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


def build(source: Path, output: Path) -> int:
    rows = [row for language in LANGUAGES for row in parse(source / f"{language}.txt")]
    with output.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)


if __name__ == "__main__":
    print(f"independent={build(HERE, HERE / 'independent.jsonl')}")
    print(f"second={build(HERE / 'second', HERE / 'second.jsonl')}")
    print(f"third={build(HERE / 'third', HERE / 'third.jsonl')}")
