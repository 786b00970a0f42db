"""Sync and async clients for the Madan Sara REST API (httpx), returning typed models.

from madansara_client import Client
with Client("https://madansara.example.com", api_key="ms_…") as ms:
    for contact in ms.contacts.iter(lifecycle_stage="customer"):
        ...
    send = ms.sends.send(contact=42, text="Your order shipped")   # idempotent retries
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from pydantic import BaseModel

from madansara_client import models
from madansara_client._transport import MadanSaraError, RetryPolicy, build_headers, clean

# name: (method, path, response model name or None, paginated list?). A test checks each
# against the server's OpenAPI schema, so the client cannot drift from the API.
OPERATIONS: dict[str, tuple[str, str, str | None, bool]] = {
    "contacts.list": ("GET", "/api/v1/contacts", "Contact", True),
    "contacts.get": ("GET", "/api/v1/contacts/{id}", "Contact", False),
    "contacts.create": ("POST", "/api/v1/contacts", "Contact", False),
    "contacts.update": ("PATCH", "/api/v1/contacts/{id}", "Contact", False),
    "contacts.erase": ("DELETE", "/api/v1/contacts/{id}", None, False),
    "sends.send": ("POST", "/api/v1/outreach/send", "DirectSend", False),
    "sends.list": ("GET", "/api/v1/outreach/sends", "DirectSend", True),
    "sends.get": ("GET", "/api/v1/outreach/sends/{id}", "DirectSend", False),
    "sends.approve": ("POST", "/api/v1/outreach/sends/{id}/approve", "DirectSend", False),
    "sends.reject": ("POST", "/api/v1/outreach/sends/{id}/reject", "DirectSend", False),
    "campaigns.list": ("GET", "/api/v1/campaigns", "Campaign", True),
    "campaigns.get": ("GET", "/api/v1/campaigns/{id}", "Campaign", False),
    "webhook_endpoints.list": ("GET", "/api/v1/webhooks/endpoints", "WebhookEndpoint", True),
    "webhook_endpoints.create": ("POST", "/api/v1/webhooks/endpoints", "WebhookEndpointSecret", False),
    "webhook_endpoints.delete": ("DELETE", "/api/v1/webhooks/endpoints/{id}", None, False),
    "webhook_deliveries.list": ("GET", "/api/v1/webhooks/deliveries", "WebhookDelivery", True),
    "webhook_deliveries.replay": ("POST", "/api/v1/webhooks/deliveries/{id}/replay", "WebhookDelivery", False),
    "api_keys.list": ("GET", "/api/v1/api-keys", "APIKey", True),
}


def _model(name: str | None) -> type[BaseModel] | None:
    return getattr(models, name) if name else None


def _parse(name: str | None, data: Any):
    model = _model(name)
    return model.model_validate(data) if model is not None and data is not None else data


class _Resource:
    """Typed methods of one API resource; they return models (or coroutines on AsyncClient)."""

    def __init__(self, client, prefix: str):
        self._client = client
        self._prefix = prefix

    def _op(self, verb: str, *, id=None, json=None, params=None, idempotency_key=None):
        return self._client.call(
            f"{self._prefix}.{verb}", id=id, json=json, params=params, idempotency_key=idempotency_key
        )


class Contacts(_Resource):
    def list(self, **filters):
        """One page of contacts (see iter() for all)."""
        return self._op("list", params=filters)

    def iter(self, **filters):
        """Every contact matching the filters, page after page."""
        return self._client.iterate("contacts.list", params=filters)

    def get(self, contact_id: int):
        return self._op("get", id=contact_id)

    def create(self, **fields):
        return self._op("create", json=fields)

    def update(self, contact_id: int, **fields):
        return self._op("update", id=contact_id, json=fields)

    def erase(self, contact_id: int):
        """GDPR erasure (DELETE)."""
        return self._op("erase", id=contact_id)


class Sends(_Resource):
    def send(self, *, idempotency_key: str | None = None, **request):
        """One message on the contact's best channel. An Idempotency-Key is always sent (a new
        one unless given), so the client's own retries never send twice."""
        return self._op("send", json=request, idempotency_key=idempotency_key or str(uuid.uuid4()))

    def list(self, **filters):
        return self._op("list", params=filters)

    def iter(self, **filters):
        return self._client.iterate("sends.list", params=filters)

    def get(self, send_id: int):
        return self._op("get", id=send_id)

    def approve(self, send_id: int):
        return self._op("approve", id=send_id)

    def reject(self, send_id: int, reason: str = ""):
        return self._op("reject", id=send_id, json={"reason": reason})


class Campaigns(_Resource):
    def iter(self, **filters):
        return self._client.iterate("campaigns.list", params=filters)

    def get(self, campaign_id: int):
        return self._op("get", id=campaign_id)


class WebhookEndpoints(_Resource):
    def iter(self, **filters):
        return self._client.iterate("webhook_endpoints.list", params=filters)

    def create(self, *, url: str, event_types: list[str], description: str = ""):
        """Register an endpoint; the answer holds its `secret` (shown once)."""
        return self._op("create", json={"url": url, "event_types": event_types, "description": description})

    def delete(self, endpoint_id: int):
        return self._op("delete", id=endpoint_id)


class WebhookDeliveries(_Resource):
    def iter(self, **filters):
        return self._client.iterate("webhook_deliveries.list", params=filters)

    def replay(self, delivery_id: int):
        return self._op("replay", id=delivery_id)


class APIKeys(_Resource):
    def iter(self, **filters):
        return self._client.iterate("api_keys.list", params=filters)


class _Base:
    def __init__(self, base_url: str, *, api_key: str, timeout: float = 30.0, retry: RetryPolicy | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.contacts = Contacts(self, "contacts")
        self.sends = Sends(self, "sends")
        self.campaigns = Campaigns(self, "campaigns")
        self.webhook_endpoints = WebhookEndpoints(self, "webhook_endpoints")
        self.webhook_deliveries = WebhookDeliveries(self, "webhook_deliveries")
        self.api_keys = APIKeys(self, "api_keys")

    @staticmethod
    def _route(name: str, id=None) -> tuple[str, str, str | None, bool]:
        method, path, model, paginated = OPERATIONS[name]
        return method, path.replace("{id}", str(id)) if id is not None else path, model, paginated

    @staticmethod
    def _result(response: httpx.Response, model: str | None, paginated: bool):
        if response.status_code >= 400:
            raise MadanSaraError.from_response(response)
        if response.status_code == 204 or not response.content:
            return None
        data = response.json()
        if paginated:
            return [_parse(model, item) for item in data["results"]]
        return _parse(model, data)


class Client(_Base):
    """Synchronous client. Use as a context manager or call close()."""

    def __init__(self, base_url: str, *, api_key: str, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 http: httpx.Client | None = None, sleep=time.sleep):  # fmt: skip
        super().__init__(base_url, api_key=api_key, timeout=timeout, retry=retry)
        self._http = http or httpx.Client(base_url=self.base_url, timeout=timeout)
        self._sleep = sleep

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, json=None, params=None, idempotency_key: str | None = None):
        """Any API call, with the retry policy; returns the httpx.Response (errors raise MadanSaraError)."""
        headers = build_headers(self.api_key, idempotency_key)
        attempt = 0
        while True:
            response, error = None, None
            try:
                response = self._http.request(method, path, json=json, params=clean(params) or None, headers=headers)
            except httpx.TransportError as exc:
                error = exc
            if not self.retry.should_retry(attempt, method, headers, response, error):
                if error is not None:
                    raise error
                return response
            self._sleep(self.retry.wait(attempt, response))
            attempt += 1

    def call(self, name: str, *, id=None, json=None, params=None, idempotency_key=None):
        method, path, model, paginated = self._route(name, id)
        response = self.request(method, path, json=json, params=params, idempotency_key=idempotency_key)
        return self._result(response, model, paginated)

    def iterate(self, name: str, *, params=None) -> Iterator[Any]:
        """Every item of a paginated list, following `next` links."""
        method, path, model, _ = self._route(name)
        url, query = path, clean(params)
        while url:
            response = self.request(method, url, params=query)
            if response.status_code >= 400:
                raise MadanSaraError.from_response(response)
            page = response.json()
            for item in page["results"]:
                yield _parse(model, item)
            url, query = page.get("next"), None


class AsyncClient(_Base):
    """Asynchronous client (httpx.AsyncClient). Use `async with` or await aclose()."""

    def __init__(self, base_url: str, *, api_key: str, timeout: float = 30.0, retry: RetryPolicy | None = None,
                 http: httpx.AsyncClient | None = None, sleep=asyncio.sleep):  # fmt: skip
        super().__init__(base_url, api_key=api_key, timeout=timeout, retry=retry)
        self._http = http or httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._sleep = sleep

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, *, json=None, params=None, idempotency_key: str | None = None):
        headers = build_headers(self.api_key, idempotency_key)
        attempt = 0
        while True:
            response, error = None, None
            try:
                response = await self._http.request(
                    method, path, json=json, params=clean(params) or None, headers=headers
                )
            except httpx.TransportError as exc:
                error = exc
            if not self.retry.should_retry(attempt, method, headers, response, error):
                if error is not None:
                    raise error
                return response
            await self._sleep(self.retry.wait(attempt, response))
            attempt += 1

    async def call(self, name: str, *, id=None, json=None, params=None, idempotency_key=None):
        method, path, model, paginated = self._route(name, id)
        response = await self.request(method, path, json=json, params=params, idempotency_key=idempotency_key)
        return self._result(response, model, paginated)

    async def iterate(self, name: str, *, params=None) -> AsyncIterator[Any]:
        method, path, model, _ = self._route(name)
        url, query = path, clean(params)
        while url:
            response = await self.request(method, url, params=query)
            if response.status_code >= 400:
                raise MadanSaraError.from_response(response)
            page = response.json()
            for item in page["results"]:
                yield _parse(model, item)
            url, query = page.get("next"), None
