"""The MCP server (official `mcp` SDK): Madan Sara's tools and resources for AI agents.

Over stdio it acts with one API key (MADANSARA_API_KEY); over streamable HTTP each request
carries `Authorization: Bearer ms_…`, verified like the REST API's keys. Either way a tool
can do only what the key's scopes and its owner's role allow, action-taking tools go through
the action policy, and every call writes an audit row naming the key.
"""

import inspect
from collections.abc import Callable
from typing import Annotated, Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field
from rest_framework.exceptions import AuthenticationFailed
from starlette.applications import Starlette

from agents import tools
from agents.principal import Principal, ToolRefused
from madansara.api.authentication import api_key_verify
from madansara.models import APIKey

INSTRUCTIONS = """Madan Sara is a multi-channel marketing platform (email, SMS, WhatsApp, Instagram,
Facebook, LinkedIn, X). Read tools return live data. Action tools never bypass the rules a marketer
follows: consent, suppression lists, frequency caps, quiet hours and human approval apply, and each
answer says plainly whether something was "sent", "queued for approval" or refused (and why)."""
READ = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=True)

PrincipalSource = Callable[[], Principal]


class APIKeyVerifier:
    """The SDK's TokenVerifier for our API keys: the bearer token is a Madan Sara key."""

    async def verify_token(self, token: str) -> AccessToken | None:
        key = await sync_to_async(_verify)(token)
        if key is None:
            return None
        return AccessToken(
            token=token, client_id=f"key:{key.pk}", scopes=list(key.scopes or []), subject=str(key.user_id)
        )


def _verify(token: str) -> APIKey | None:
    close_old_connections()
    try:
        return api_key_verify(token)
    except AuthenticationFailed:
        return None


def principal_from_key(raw: str) -> Principal:
    """The principal for a raw key (stdio); raises AuthenticationFailed."""
    return Principal(key=api_key_verify(raw))


def principal_from_request() -> Principal:
    """The principal of the HTTP request being served (its key re-read: revocation is immediate)."""
    token = get_access_token()
    if token is None:
        raise ToolRefused("Not authenticated.")
    key = APIKey.objects.select_related("user").filter(pk=int(token.client_id.removeprefix("key:"))).first()
    if key is None or not key.is_active or not key.user.is_active:
        raise ToolRefused("The API key was revoked or has expired.")
    return Principal(key=key)


def _call(source: PrincipalSource, fn: Callable[..., Any], **kwargs):
    close_old_connections()
    try:
        return fn(source(), **kwargs)
    except ToolRefused as exc:
        raise ToolError(str(exc)) from exc
    finally:
        close_old_connections()


def build_server(source: PrincipalSource, *, http: bool = False) -> MCPServer:
    """The MCP server; `source` says who is calling (a fixed key for stdio, the request's for HTTP)."""
    options: dict[str, Any] = {}
    if http:
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        options = {
            "token_verifier": APIKeyVerifier(),
            "auth": AuthSettings(issuer_url=base, resource_server_url=f"{base}/mcp", validate_token_resource=False),
        }
    server = MCPServer(name="madansara", title="Madan Sara", instructions=INSTRUCTIONS, version="1.0.0", **options)

    def tool(annotations: ToolAnnotations):
        """Register a tool whose description is its docstring, without the source indentation."""

        def register(fn):
            server.add_tool(fn, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations)
            return fn

        return register

    @tool(READ)
    def search_contacts(
        query: Annotated[
            str, Field(description="Words in the name, an e-mail, a phone (E.164), a handle or an external id")
        ],
        limit: Annotated[int, Field(ge=1, le=100, description="At most this many contacts")] = 20,
    ) -> dict:
        """Find contacts by name, identity (e-mail, phone, handle) or external id. Returns each
        contact's id, lifecycle stage, identities per channel, consent per channel and tags.
        Needs the contacts:read scope."""
        return _call(source, tools.search_contacts, query=query, limit=limit)

    @tool(READ)
    def contact_360(contact_id: Annotated[int, Field(description="The contact's id")]) -> dict:
        """Everything known about one contact: identities, consent per channel and its history,
        tags and attributes, engagement per channel, campaigns (journey states), conversations,
        touchpoints and conversions. Sections the key's scopes do not cover are listed in `omitted`."""
        return _call(source, tools.contact_360, contact_id=contact_id)

    @tool(READ)
    def conversations_needing_attention(
        limit: Annotated[int, Field(ge=1, le=100, description="At most this many conversations")] = 20,
    ) -> dict:
        """Open conversations waiting for our reply, the most urgent SLA deadline first, with
        the customer's intent and sentiment, the assignee and any pending draft. Needs inbox:read."""
        return _call(source, tools.conversations_needing_attention, limit=limit)

    @tool(READ)
    def read_conversation(conversation_id: Annotated[int, Field(description="The conversation's id")]) -> dict:
        """A conversation's messages in order (customer and us), its status, intent, SLA state and
        pending reply drafts. Needs inbox:read."""
        return _call(source, tools.read_conversation, conversation_id=conversation_id)

    @tool(WRITE)
    def propose_reply(
        conversation_id: Annotated[int, Field(description="The conversation to answer")],
        text: Annotated[
            str, Field(min_length=1, max_length=10000, description="The reply as the customer will read it")
        ],
    ) -> dict:
        """Propose a reply: it becomes a draft in the human review queue (it replaces any pending
        draft) and is sent only when a person approves it. Answers "queued for approval".
        Needs inbox:write; subject to the action policy."""
        return _call(source, tools.propose_reply, conversation_id=conversation_id, text=text)

    @tool(WRITE)
    def send_message(
        contact_id: Annotated[int | None, Field(description="The contact's id (or give email or phone)")] = None,
        email: Annotated[str, Field(description="The contact's e-mail address")] = "",
        phone: Annotated[str, Field(description="The contact's phone number, E.164 (SMS or WhatsApp)")] = "",
        text: Annotated[str, Field(max_length=10000, description="The message (or give a template)")] = "",
        subject: Annotated[str, Field(max_length=998, description="E-mail subject when e-mail is chosen")] = "",
        template: Annotated[str, Field(description="A template name (one version per channel)")] = "",
        channel: Annotated[
            str, Field(description="Force a channel: email, sms, whatsapp, instagram, facebook, linkedin, x")
        ] = "",
        idempotency_key: Annotated[str, Field(max_length=255, description="Retry-safe key: reuse it on retries")] = "",
    ) -> dict:
        """Send one message to one contact on their best channel. Consent, suppression lists,
        frequency caps, messaging windows and quiet hours apply; the action policy decides whether
        it is "sent", "queued for approval" (nothing goes out until a person approves) or refused.
        Needs outreach:write."""
        return _call(
            source, tools.send_message, contact_id=contact_id, email=email, phone=phone, text=text,
            subject=subject, template=template, channel=channel, idempotency_key=idempotency_key,
        )  # fmt: skip

    @tool(WRITE)
    def create_campaign_draft(
        name: Annotated[str, Field(min_length=1, max_length=200, description="The campaign's name")],
        segment_id: Annotated[int, Field(description="The audience: a segment id (see the segments resource)")],
        channel: Annotated[str, Field(description="email, sms, whatsapp, instagram, facebook, linkedin or x")],
        text: Annotated[str, Field(min_length=1, description="The message; may use {{ contact.first_name }}")],
        subject: Annotated[str, Field(description="E-mail subject (required for email)")] = "",
    ) -> dict:
        """Create a campaign in draft with one send step and its template. It never sends: a
        marketer reviews and launches it. Needs outreach:write; subject to the action policy."""
        return _call(
            source, tools.create_campaign_draft, name=name, segment_id=segment_id, channel=channel, text=text,
            subject=subject,
        )  # fmt: skip

    @tool(READ)
    def campaign_results(campaign_id: Annotated[int, Field(description="The campaign's id")]) -> dict:
        """A campaign's results per step and channel: planned, held back (and why), sent,
        delivered, opened, clicked, replied, failed, cost; journeys by state; holdout lift."""
        return _call(source, tools.campaign_results, campaign_id=campaign_id)

    @tool(READ)
    def experiment_results(experiment_key: Annotated[str, Field(description="The experiment's key")]) -> dict:
        """An A/B test's latest results per variant (every estimation method), its status,
        winner and sample-ratio-mismatch flag. Needs abtesting:read."""
        return _call(source, tools.experiment_results, experiment_key=experiment_key)

    @tool(READ)
    def funnel_results(
        funnel_id: Annotated[int, Field(description="The funnel's id")],
        days: Annotated[int, Field(ge=1, le=365, description="Look back this many days")] = 30,
    ) -> dict:
        """A website funnel's people per step, conversion and drop-off over the last days."""
        return _call(source, tools.funnel_results, funnel_id=funnel_id, days=days)

    @tool(READ)
    def attribution_results(
        days: Annotated[int, Field(ge=1, le=365, description="Look back this many days")] = 30,
        by: Annotated[
            str, Field(pattern="^(conversions|revenue)$", description="conversions or revenue")
        ] = "conversions",
    ) -> dict:
        """Credit per channel under every attribution model (first/last touch, linear,
        time decay, position based, Markov), side by side. Needs conversion:read."""
        return _call(source, tools.attribution_results, days=days, by=by)

    @tool(READ)
    def best_practice_recommendations(
        outcome: Annotated[
            str, Field(description="Only this outcome: opened, clicked, replied, converted or unsubscribed")
        ] = "",
        template: Annotated[str, Field(description="Only recommendations for this template name")] = "",
        limit: Annotated[int, Field(ge=1, le=100, description="At most this many of each")] = 20,
    ) -> dict:
        """Best practices learnt from past sends: each feature value's adjusted lift on an outcome
        with its confidence interval and whether it is significant (or confirmed by an experiment),
        and the open recommendations to change a template accordingly, largest expected lift first.
        Use them when writing messages or campaign drafts. Needs bestpractices:read."""
        return _call(source, tools.best_practice_recommendations, outcome=outcome, template_name=template, limit=limit)

    @tool(WRITE)
    def record_conversion(
        external_id: Annotated[str, Field(min_length=1, max_length=255, description="Your id of it (idempotent)")],
        type: Annotated[str, Field(description="The conversion type code, e.g. purchase, signup")],
        value: Annotated[str, Field(description="Amount as a decimal string")] = "0",
        currency: Annotated[str, Field(min_length=3, max_length=3, description="ISO 4217 code")] = "USD",
        contact_id: Annotated[int | None, Field(description="The contact who converted")] = None,
        occurred_at: Annotated[str, Field(description="ISO 8601 time (default: now)")] = "",
    ) -> dict:
        """Record a conversion once per external id; it is attributed to the contact's journey.
        Needs conversion:write; subject to the action policy."""
        return _call(
            source, tools.record_conversion, external_id=external_id, type=type, value=value, currency=currency,
            contact_id=contact_id, occurred_at=occurred_at,
        )  # fmt: skip

    @server.resource("madansara://templates", name="templates", mime_type="application/json")
    def templates() -> list[dict]:
        """Message templates per channel (name, channel, subject, text): use a name with send_message."""
        return _call(source, tools.templates_list)

    @server.resource("madansara://segments", name="segments", mime_type="application/json")
    def segments() -> list[dict]:
        """Saved audiences (id, name, filters): use an id with create_campaign_draft."""
        return _call(source, tools.segments_list)

    return server


def http_app(*, allowed_hosts: list[str] | None = None) -> Starlette:
    """The streamable HTTP app (POST /mcp, Bearer API keys); stateless: any worker answers."""
    server = build_server(principal_from_request, http=True)
    hosts = allowed_hosts if allowed_hosts is not None else list(settings.ALLOWED_HOSTS)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in hosts,
        allowed_hosts=[h for host in hosts for h in (host, f"{host}:*")],
        allowed_origins=[o for host in hosts for o in (f"http://{host}", f"https://{host}", f"http://{host}:*")],
    )
    return server.streamable_http_app(
        streamable_http_path="/mcp", stateless_http=True, json_response=True, transport_security=security
    )
