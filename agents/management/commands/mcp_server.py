"""`manage.py mcp_server`: the MCP server over stdio (with MADANSARA_API_KEY) or streamable HTTP."""

import os

import uvicorn
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import AuthenticationFailed

from agents.mcp_server import build_server, http_app, principal_from_key
from agents.principal import Principal, ToolRefused
from madansara.models import APIKey


class Command(BaseCommand):
    help = (
        "Run the MCP server for AI agents. stdio (default): acts with the API key in MADANSARA_API_KEY. "
        "--http: streamable HTTP at http://HOST:PORT/mcp, each request authenticated by its Bearer API key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--http", action="store_true", help="Serve streamable HTTP instead of stdio")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--allowed-host", action="append", dest="allowed_hosts",
            help="Host header accepted over HTTP (repeatable; default: ALLOWED_HOSTS)",
        )  # fmt: skip

    def handle(self, *args, http, host, port, allowed_hosts, **options):
        if http:
            hosts = allowed_hosts or None
            if hosts is None and host in ("127.0.0.1", "localhost"):
                hosts = ["127.0.0.1", "localhost"]
            uvicorn.run(http_app(allowed_hosts=hosts), host=host, port=port, log_level="warning")
            return
        raw = os.environ.get("MADANSARA_API_KEY", "").strip()
        if not raw:
            raise CommandError("Set MADANSARA_API_KEY to the API key the agent acts with (manage.py create_api_key).")
        try:
            principal = principal_from_key(raw)
        except AuthenticationFailed as exc:
            raise CommandError(f"MADANSARA_API_KEY: {exc.detail}") from exc
        key_id = principal.key.pk
        build_server(lambda: _fresh(key_id)).run("stdio")


def _fresh(key_id: int):
    """Re-read the key on every call, so a revocation takes effect at once."""
    key = APIKey.objects.select_related("user").filter(pk=key_id).first()
    if key is None or not key.is_active or not key.user.is_active:
        raise ToolRefused("The API key was revoked or has expired.")
    return Principal(key=key)
