"""The OpenAPI schema (every app's views) generates and validates without warnings."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/contacts/bulk:" in text and "/api/v1/api-keys:" in text and "apiKey" in text


@pytest.mark.django_db
def test_schema_and_docs_are_served(admin_client):
    assert admin_client.get("/api/schema/").status_code == 200
    docs = admin_client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content.lower()
