"""Webhook endpoints. Order everywhere: verify → (parse) → store raw event → ack; a task processes it.

A forged, unsigned or expired request gets 403 and a malformed body 400, and neither leaves a row.
"""

import hashlib
import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from madansara.api.exceptions import error_body
from madansara.channels.models import WebhookEvent
from madansara.channels.tasks import webhook_event_process_task
from madansara.channels.webhooks import inbound_parse, verify

logger = logging.getLogger(__name__)
TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "X-Twilio-Email-Event-Webhook-Timestamp",
    "X-Twilio-Signature",
    "X-Hub-Signature-256",
    "X-Twitter-Webhooks-Signature",
    "X-LI-Signature",
)


def error_response(status: int, code: str, message: str) -> JsonResponse:
    """The project's one error body."""
    return JsonResponse(error_body(code, message), status=status)


def forbidden(reason: str) -> JsonResponse:
    logger.warning("webhook rejected", extra={"reason": reason})
    return error_response(403, "invalid_signature", reason)


def malformed(reason: str) -> JsonResponse:
    return error_response(400, "malformed_body", reason)


def webhook_event_store(*, request, provider: str, kind: str, verification: str, body: str, dedup: str) -> bool:
    """Store a verified raw event once and enqueue its processing after commit; False if a duplicate."""
    headers = {name: request.headers[name] for name in KEPT_HEADERS if name in request.headers}
    dedup_key = f"{provider}:{kind}:{dedup}"[:255]
    try:  # the unique dedup_key refuses a redelivery: no separate look-up on the hot path
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider, kind=kind, dedup_key=dedup_key, verification=verification, headers=headers, body=body
            )
            transaction.on_commit(lambda: webhook_event_process_task.delay(event.pk))
    except IntegrityError:  # delivered before (or twice at once)
        return False
    return True


def _raw_body(request) -> bytes | None:
    try:
        return request.body
    except RequestDataTooBig:
        return None


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _json(body: bytes, expected: type):
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, expected) else None


@csrf_exempt
@require_POST
def sendgrid_events(request):
    body = _raw_body(request)
    if body is None:
        return error_response(413, "too_large", "Request body too large.")
    if not verify.sendgrid_event_valid(
        body=body,
        signature=request.headers.get("X-Twilio-Email-Event-Webhook-Signature", ""),
        timestamp=request.headers.get("X-Twilio-Email-Event-Webhook-Timestamp", ""),
    ):
        return forbidden("Missing, invalid or expired SendGrid signature.")
    events = _json(body, list)
    if events is None or not all(isinstance(e, dict) for e in events):
        return malformed("Expected a JSON array of event objects.")
    webhook_event_store(
        request=request,
        provider="sendgrid",
        kind="events",
        verification="ecdsa-p256",
        body=body.decode(),
        dedup=_digest(body),
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def sendgrid_inbound(request, secret: str):
    if not verify.secret_matches(secret, settings.SENDGRID_INBOUND_SECRET):
        return forbidden("Unknown inbound parse URL.")
    if int(request.META.get("CONTENT_LENGTH") or 0) > settings.SENDGRID_INBOUND_MAX_BYTES:
        return error_response(413, "too_large", "Inbound email too large.")
    try:
        parsed = inbound_parse.parse_request(request)
    except inbound_parse.InboundParseError as exc:
        return malformed(str(exc))
    except RequestDataTooBig:
        return error_response(413, "too_large", "Inbound email too large.")
    body = json.dumps(parsed, sort_keys=True)
    dedup = parsed["headers"].get("message_id") or _digest(body.encode())
    webhook_event_store(
        request=request, provider="sendgrid", kind="inbound", verification="url-secret", body=body, dedup=dedup
    )
    return HttpResponse(status=200)


def public_url(request) -> str:
    """The URL Twilio signed, as this request shows it: forwarded proto/host only when
    WEBHOOK_TRUST_FORWARDED_HEADERS (PUBLIC_BASE_URL + path is also accepted, see _twilio)."""
    scheme, host = request.scheme, request.get_host()
    if settings.WEBHOOK_TRUST_FORWARDED_HEADERS:
        scheme = request.headers.get("X-Forwarded-Proto", scheme).split(",")[0].strip() or scheme
        host = request.headers.get("X-Forwarded-Host", host).split(",")[0].strip() or host
    return f"{scheme}://{host}{request.get_full_path()}"


def _twilio(request, kind: str, dedup_fields: tuple[str, ...], ok_response):
    signature = request.headers.get("X-Twilio-Signature", "")
    urls = {public_url(request), f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"}
    if not any(verify.twilio_valid(url=url, params=request.POST, signature=signature) for url in urls):
        return forbidden("Missing or invalid X-Twilio-Signature.")
    params = {key: request.POST.get(key) for key in request.POST}
    if not params.get("MessageSid") or not params.get("From" if kind == "message" else "MessageStatus"):
        return malformed("MessageSid and From/MessageStatus are required.")
    dedup = ":".join(params.get(f, "") for f in dedup_fields)
    webhook_event_store(
        request=request,
        provider="twilio",
        kind=kind,
        verification="twilio-signature",
        body=json.dumps(params, sort_keys=True),
        dedup=dedup,
    )
    return ok_response()


@csrf_exempt
@require_POST
def twilio_messages(request):
    return _twilio(request, "message", ("MessageSid",), lambda: HttpResponse(TWIML_EMPTY, content_type="text/xml"))


@csrf_exempt
@require_POST
def twilio_status(request):
    return _twilio(request, "status", ("MessageSid", "MessageStatus"), lambda: HttpResponse(status=204))


def _signed_json(request, *, provider: str, valid, verification: str):
    body = _raw_body(request)
    if body is None:
        return error_response(413, "too_large", "Request body too large.")
    if not verify.signed_body_shape_valid(body):  # before the signature: see verify.X_CRC_TOKEN
        return malformed("Expected a JSON object.")
    if not valid(body):
        return forbidden(f"Missing or invalid {provider} signature.")
    data = _json(body, dict)
    if data is None:
        return malformed("Expected a JSON object.")
    webhook_event_store(
        request=request,
        provider=provider,
        kind="event",
        verification=verification,
        body=body.decode(),
        dedup=_digest(body),
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta(request):
    if request.method == "GET":
        token = request.GET.get("hub.verify_token", "")
        if request.GET.get("hub.mode") == "subscribe" and verify.secret_matches(token, settings.META_VERIFY_TOKEN):
            return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
        return forbidden("Verify token mismatch.")
    return _signed_json(
        request,
        provider="meta",
        verification="hmac-sha256",
        valid=lambda body: verify.meta_valid(body=body, signature=request.headers.get("X-Hub-Signature-256", "")),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def x(request):
    if request.method == "GET":
        crc_token = request.GET.get("crc_token", "")
        if not verify.x_crc_token_valid(crc_token):
            return malformed("crc_token is required: base64 text of at most 256 characters.")
        if not settings.X_CONSUMER_SECRET:
            return forbidden("X webhooks are not configured.")
        return JsonResponse({"response_token": verify.x_crc_response(crc_token)})
    return _signed_json(
        request,
        provider="x",
        verification="hmac-sha256",
        valid=lambda body: verify.x_valid(body=body, signature=request.headers.get("X-Twitter-Webhooks-Signature", "")),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def linkedin(request):
    if request.method == "GET":  # the validation challenge comes by GET only
        challenge = request.GET.get("challengeCode", "")
        if not verify.linkedin_challenge_code_valid(challenge):
            return malformed("challengeCode is required: a version-4 UUID.")
        if not settings.LINKEDIN_CLIENT_SECRET:
            return forbidden("LinkedIn webhooks are not configured.")
        return JsonResponse(
            {"challengeCode": challenge, "challengeResponse": verify.linkedin_challenge_response(challenge)}
        )
    return _signed_json(
        request,
        provider="linkedin",
        verification="hmac-sha256",
        valid=lambda body: verify.linkedin_valid(body=body, signature=request.headers.get("X-LI-Signature", "")),
    )
