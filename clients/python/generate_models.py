"""Regenerate madansara_client/models.py from the server's OpenAPI schema (datamodel-code-generator).

    python manage.py spectacular --format openapi-json --file schema.json
    python clients/python/generate_models.py schema.json

The client's tests run this against the live schema and fail when the committed models differ.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = HERE / "madansara_client" / "models.py"
OPTIONS = [
    "--input-file-type", "openapi", "--output-model-type", "pydantic_v2.BaseModel",
    "--target-python-version", "3.10", "--use-standard-collections", "--use-union-operator",
    "--disable-timestamp", "--enum-field-as-literal", "all", "--strict-nullable",
    "--formatters", "ruff-format", "--use-double-quotes", "--collapse-root-models",
]  # fmt: skip
HEADER = '"""Models of the Madan Sara API, generated from its OpenAPI schema by generate_models.py."""\n# ruff: noqa\n'


# Integer bounds the server derives from its database backend (SQLite vs PostgreSQL ranges):
# not part of the API contract, so the models do not depend on where the schema was made.
BACKEND_BOUNDS = {32767, -32768, 2147483647, -2147483648, 9223372036854775807, -9223372036854775808}


def _portable(node):
    if isinstance(node, dict):
        drop = {k for k in ("maximum", "minimum") if node.get(k) in BACKEND_BOUNDS}
        if node.get("format") == "int64":
            drop.add("format")
        return {k: _portable(v) for k, v in node.items() if k not in drop}
    if isinstance(node, list):
        return [_portable(v) for v in node]
    return node


def generate(schema: Path, output: Path) -> str:
    """The models module for `schema` (also written to `output`). Generated in a scratch folder:
    the formatter must not pick up the configuration of wherever `output` lives."""
    codegen = Path(sys.executable).with_name("datamodel-codegen")
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "models.py"
        portable = Path(scratch) / "schema.json"
        portable.write_text(json.dumps(_portable(json.loads(schema.read_text()))))
        subprocess.run([str(codegen), "--input", str(portable), "--output", str(target), *OPTIONS], check=True,
                       capture_output=True, cwd=scratch)  # fmt: skip
        body = target.read_text()
    body = HEADER + body[body.index("from __future__") :]  # the generator's header names the input file
    output.write_text(body)
    return body


if __name__ == "__main__":
    generate(Path(sys.argv[1]), MODELS)
