"""Build static/madansara.min.js from static/madansara.js without network or Node.

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


def minify(source: str) -> str:
    """Return `source` without comments and without whitespace that carries no meaning."""
    return rjsmin.jsmin(source) + "\n"


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
