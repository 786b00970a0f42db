"""Build static/madansara.min.js (the tracker) and static/madansara-chat.min.js (the chat widget,
loaded on demand by the tracker) from their sources, without network or Node.

rjsmin (a maintained JavaScript minifier, C speed-up, no Node) drops comments and whitespace
and knows JavaScript's lexical grammar: string contents, regex literals and `a - -b` survive.
Run `python -m website.tracker_build` to rebuild and print the gzip size.
"""

import gzip
import sys
from pathlib import Path

import rjsmin

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "madansara.js"
TARGET = ROOT / "static" / "madansara.min.js"
GZIP_BUDGET = 2048
CHAT_SOURCE = ROOT / "static" / "madansara-chat.js"
CHAT_TARGET = ROOT / "static" / "madansara-chat.min.js"
CHAT_GZIP_BUDGET = 15 * 1024


def minify(source: str) -> str:
    """Return `source` without comments and without whitespace that carries no meaning, in ASCII:
    other characters (only in string literals) become \\u escapes, so the script reads the same
    on a page in any charset."""
    return ascii_escape(rjsmin.jsmin(source)) + "\n"


def ascii_escape(text: str) -> str:
    """Non-ASCII characters as JavaScript \\uXXXX escapes (UTF-16 surrogate pairs beyond the BMP)."""
    out = []
    for char in text:
        if ord(char) < 128:
            out.append(char)
            continue
        units = char.encode("utf-16-be")
        out.extend(f"\\u{int.from_bytes(units[i : i + 2]):04x}" for i in range(0, len(units), 2))
    return "".join(out)


def gzip_size(text: str) -> int:
    """Size in bytes of `text` gzipped at the highest level, as a CDN would serve it."""
    return len(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def build(source: Path = SOURCE, target: Path = TARGET) -> tuple[str, int]:
    """Write a minified script and return (minified text, gzipped size)."""
    minified = minify(source.read_text())
    target.write_text(minified)
    return minified, gzip_size(minified)


def main() -> int:
    ok = True
    for source, target, budget in ((SOURCE, TARGET, GZIP_BUDGET), (CHAT_SOURCE, CHAT_TARGET, CHAT_GZIP_BUDGET)):
        minified, size = build(source, target)
        print(f"static/{target.name}: {len(minified)} B minified, {size} B gzipped (budget {budget} B)")
        ok = ok and size <= budget
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
