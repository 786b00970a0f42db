"""Build static/madansara.min.js from static/madansara.js without network or Node.

A small tokenizer drops comments and whitespace (the source is written with explicit
semicolons and no regex literals, so no automatic semicolon insertion is needed).
Run `python -m website.tracker_build` to rebuild and print the gzip size.
"""

import gzip
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "static" / "madansara.js"
TARGET = ROOT / "static" / "madansara.min.js"
GZIP_BUDGET = 2048

_TOKEN = re.compile(
    r"""(?P<comment>//[^\n]*|/\*.*?\*/)
      |(?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
      |(?P<space>\s+)
      |(?P<word>[A-Za-z0-9_$.]+)
      |(?P<punct>.)""",
    re.DOTALL | re.VERBOSE,
)
_WORD_CHAR = re.compile(r"[A-Za-z0-9_$]")


def minify(source: str) -> str:
    """Return `source` without comments and without whitespace that carries no meaning."""
    out: list[str] = []
    pending_space = False
    for match in _TOKEN.finditer(source):
        kind, text = match.lastgroup, match.group()
        if kind in ("comment", "space"):
            pending_space = True
            continue
        if pending_space and out and _WORD_CHAR.match(out[-1][-1]) and _WORD_CHAR.match(text[0]):
            out.append(" ")
        pending_space = False
        out.append(text)
    return "".join(out).replace(",}", "}").replace(",]", "]").replace(",)", ")") + "\n"


def gzip_size(text: str) -> int:
    """Size in bytes of `text` gzipped at the highest level, as a CDN would serve it."""
    return len(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def build() -> tuple[str, int]:
    """Write the minified tracker and return (minified text, gzipped size)."""
    minified = minify(SOURCE.read_text())
    TARGET.write_text(minified)
    return minified, gzip_size(minified)


def main() -> int:
    minified, size = build()
    print(f"static/madansara.min.js: {len(minified)} B minified, {size} B gzipped (budget {GZIP_BUDGET} B)")
    return 0 if size <= GZIP_BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
