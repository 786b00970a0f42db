"""The client and the server's OpenAPI schema must agree: regenerated models equal the committed
ones, and every operation the client calls exists with the model it parses."""

import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import generate_models
from madansara_client import OPERATIONS, models


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    call_command("spectacular", format="openapi-json", file=str(path))
    return path


def test_committed_models_are_what_the_schema_generates(schema, tmp_path):
    generated = generate_models.generate(schema, tmp_path / "models.py")
    assert generated == generate_models.MODELS.read_text(), (
        "The API schema changed: run `python manage.py spectacular --format openapi-json --file s.json && "
        "python clients/python/generate_models.py s.json` and review the client."
    )


def test_every_client_operation_exists_with_its_response_model(schema):
    paths = json.loads(schema.read_text())["paths"]
    for name, (method, path, model, paginated) in OPERATIONS.items():
        operation = paths.get(path, {}).get(method.lower())
        assert operation is not None, f"{name}: {method} {path} is not in the schema"
        if model is None:
            continue
        assert hasattr(models, model), f"{name}: no model {model}"
        success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
        ref = success["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert ref == (f"Paginated{model}List" if paginated else model), f"{name}: schema says {ref}"


def test_operations_are_tagged_by_domain(schema):
    paths = json.loads(schema.read_text())["paths"]
    tags = {
        tag for item in paths.values() for op in item.values() if isinstance(op, dict) for tag in op.get("tags", [])
    }
    assert {
        "contacts",
        "outreach",
        "inbox",
        "abtesting",
        "website",
        "conversion",
        "social",
        "channels",
        "webhooks",
    } <= tags
    assert "api" not in tags
    assert paths["/api/v1/outreach/send"]["post"]["tags"] == ["outreach"]
