"""Meta (Messenger, Instagram), X and LinkedIn webhooks: handshakes, HMAC signatures, normalisation."""

import base64
import hashlib
import hmac

import pytest

from madansara.channels.models import InboundMessage, MessageStatus, WebhookEvent
from madansara.channels.tests.conftest import as_json, hmac_b64, hmac_hex

pytestmark = pytest.mark.django_db


def meta_post(client, data, *, signature=None, body=None):
    body = body if body is not None else as_json(data)
    signature = signature if signature is not None else "sha256=" + hmac_hex("meta-secret", body)
    return client.post("/webhooks/meta", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def messenger_message(mid="m_1", text="Hi page", **message):
    return {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 1764070000000,
                "messaging": [
                    {
                        "sender": {"id": "psid-1"},
                        "recipient": {"id": "PAGE"},
                        "timestamp": 1764070000000,
                        "message": {"mid": mid, "text": text, **message},
                    }
                ],
            }
        ],
    }


def test_meta_handshake_echoes_the_challenge_only_with_the_right_token(client, webhook_secrets):
    ok = client.get(
        "/webhooks/meta", {"hub.mode": "subscribe", "hub.verify_token": "meta-verify", "hub.challenge": "42"}
    )
    bad = client.get("/webhooks/meta", {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"})

    assert (ok.status_code, ok.content) == (200, b"42")
    assert bad.status_code == 403


def test_messenger_message_is_normalised(client, webhook_secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert meta_post(client, messenger_message()).status_code == 200

    message = InboundMessage.objects.get()
    assert (message.channel, message.kind, message.sender, message.text, message.thread_id) == (
        "facebook",
        "message",
        "psid-1",
        "Hi page",
        "psid-1",
    )
    assert message.identity.last_inbound_at is not None


def test_echoes_of_our_own_messages_are_ignored(client, webhook_secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        meta_post(client, messenger_message(is_echo=True))

    assert InboundMessage.objects.count() == 0
    assert WebhookEvent.objects.get().status == "processed"


def test_instagram_story_reply_postback_comment_and_mention(
    client, webhook_secrets, django_capture_on_commit_callbacks
):
    data = {
        "object": "instagram",
        "entry": [
            {
                "id": "IGBIZ",
                "time": 1764070000000,
                "messaging": [
                    {
                        "sender": {"id": "1789"},
                        "recipient": {"id": "IGBIZ"},
                        "timestamp": 1764070000000,
                        "message": {
                            "mid": "ig_m1",
                            "text": "love it",
                            "reply_to": {"story": {"id": "st1", "url": "u"}},
                        },
                    },
                    {
                        "sender": {"id": "1789"},
                        "recipient": {"id": "IGBIZ"},
                        "timestamp": 1764070001000,
                        "postback": {"mid": "ig_pb1", "title": "Get started", "payload": "START"},
                    },
                ],
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": "c1",
                            "text": "Price?",
                            "from": {"id": "1790", "username": "bob"},
                            "media": {"id": "media1"},
                        },
                    },
                    {"field": "mentions", "value": {"media_id": "media2", "comment_id": "c2"}},
                ],
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert meta_post(client, data).status_code == 200

    rows = {m.kind: m for m in InboundMessage.objects.filter(channel="instagram")}
    assert set(rows) == {"story_reply", "postback", "comment", "mention"}
    assert rows["story_reply"].post_id == "st1"
    assert rows["postback"].headers == {"payload": "START"}
    assert (rows["comment"].external_id, rows["comment"].post_id, rows["comment"].text) == ("c1", "media1", "Price?")
    assert rows["comment"].contact.name == "bob"
    assert (rows["mention"].external_id, rows["mention"].post_id, rows["mention"].contact) == ("c2", "media2", None)


def test_page_feed_comment_becomes_a_facebook_comment(client, webhook_secrets, django_capture_on_commit_callbacks):
    data = {
        "object": "page",
        "entry": [
            {
                "id": "PAGE",
                "time": 1764070000,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "p_c1",
                            "post_id": "PAGE_post1",
                            "parent_id": "PAGE_post1",
                            "message": "Nice",
                            "from": {"id": "fb-user-9", "name": "Carla"},
                            "created_time": 1764070000,
                        },
                    }
                ],
            }
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        meta_post(client, data)

    comment = InboundMessage.objects.get()
    assert (comment.channel, comment.kind, comment.post_id, comment.text) == (
        "facebook",
        "comment",
        "PAGE_post1",
        "Nice",
    )
    assert comment.identity.last_inbound_at is None  # a comment does not open the DM window


def test_messenger_delivery_marks_our_message_delivered(
    client, webhook_secrets, sent_message, django_capture_on_commit_callbacks
):
    message = sent_message(provider="meta", provider_message_id="m_out", channel="facebook", to="psid-1")
    data = {
        "object": "page",
        "entry": [{"id": "PAGE", "messaging": [{"sender": {"id": "psid-1"}, "delivery": {"mids": ["m_out"]}}]}],
    }
    with django_capture_on_commit_callbacks(execute=True):
        meta_post(client, data)

    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


@pytest.mark.parametrize("signature", ["", "sha256=deadbeef", "sha1=abc", "sha256=" + hmac_hex("other", b"{}")])
def test_meta_unverifiable_posts_get_403_and_no_row(client, webhook_secrets, signature):
    assert meta_post(client, messenger_message(), signature=signature).status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_meta_malformed_signed_body_gets_400(client, webhook_secrets):
    body = b"[not json"
    assert meta_post(client, None, body=body).status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_meta_same_delivery_twice_changes_nothing(client, webhook_secrets, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            meta_post(client, messenger_message())
    # and the same message inside a different delivery is still one row
    with django_capture_on_commit_callbacks(execute=True):
        payload = messenger_message()
        payload["entry"][0]["time"] += 1
        meta_post(client, payload)

    assert WebhookEvent.objects.count() == 2
    assert InboundMessage.objects.count() == 1


# --- X ----------------------------------------------------------------------------------------


def x_post(client, data, signature=None, body=None):
    body = body if body is not None else as_json(data)
    signature = signature if signature is not None else "sha256=" + hmac_b64("x-secret", body)
    return client.post(
        "/webhooks/x", data=body, content_type="application/json", HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=signature
    )


def test_x_crc_answers_with_the_hmac_of_the_token(client, webhook_secrets):
    response = client.get("/webhooks/x", {"crc_token": "abc123"})

    expected = base64.b64encode(hmac.new(b"x-secret", b"abc123", hashlib.sha256).digest()).decode()
    assert response.json() == {"response_token": f"sha256={expected}"}
    assert client.get("/webhooks/x").status_code == 400


def test_x_dm_and_mention_are_normalised_and_our_own_dm_ignored(
    client, webhook_secrets, django_capture_on_commit_callbacks
):
    data = {
        "for_user_id": "100",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "dm1",
                "created_timestamp": "1764070000000",
                "message_create": {
                    "target": {"recipient_id": "100"},
                    "sender_id": "42",
                    "message_data": {"text": "yo"},
                },
            },
            {
                "type": "message_create",
                "id": "dm2",
                "created_timestamp": "1764070001000",
                "message_create": {
                    "target": {"recipient_id": "42"},
                    "sender_id": "100",
                    "message_data": {"text": "ours"},
                },
            },
        ],
        "users": {"42": {"id": "42", "screen_name": "Ada", "name": "Ada L"}},
        "tweet_create_events": [
            {"id_str": "t1", "text": "@brand hi", "user": {"id_str": "43", "screen_name": "bob", "name": "Bob"}}
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert x_post(client, data).status_code == 200

    dm = InboundMessage.objects.get(kind="message")
    assert (dm.channel, dm.sender, dm.text, dm.thread_id) == ("x", "ada", "yo", "42")
    mention = InboundMessage.objects.get(kind="mention")
    assert (mention.sender, mention.post_id) == ("bob", "t1")
    assert InboundMessage.objects.count() == 2


@pytest.mark.parametrize("signature", ["", "sha256=AAAA", "sha256=" + hmac_b64("other", b"{}")])
def test_x_unverifiable_posts_get_403(client, webhook_secrets, signature):
    assert x_post(client, {"for_user_id": "1"}, signature=signature).status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_x_malformed_gets_400(client, webhook_secrets):
    assert x_post(client, None, body=b'"just a string"').status_code == 400
    assert WebhookEvent.objects.count() == 0


# --- LinkedIn ---------------------------------------------------------------------------------


def li_post(client, data, signature=None, body=None):
    body = body if body is not None else as_json(data)
    signature = signature if signature is not None else hmac_hex("li-secret", body)
    return client.post("/webhooks/linkedin", data=body, content_type="application/json", HTTP_X_LI_SIGNATURE=signature)


def test_linkedin_challenge(client, webhook_secrets):
    code = "890e4665-4dfe-4ab1-b689-ed553bceeed0"  # LinkedIn's documented example
    response = client.get("/webhooks/linkedin", {"challengeCode": code})

    assert response.json() == {"challengeCode": code, "challengeResponse": hmac_hex("li-secret", code.encode())}


def test_linkedin_comment_notification(client, webhook_secrets, django_capture_on_commit_callbacks):
    data = {
        "notifications": [
            {
                "action": "COMMENT",
                "actor": "urn:li:person:abc",
                "sourcePost": "urn:li:share:1",
                "generatedActivity": "urn:li:comment:(urn:li:share:1,9)",
                "decoratedGeneratedActivity": {"comment": {"text": "Interested"}},
                "lastModifiedAt": 1764070000000,
            },
            {"action": "LIKE", "actor": "urn:li:person:abc", "sourcePost": "urn:li:share:1"},
        ]
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert li_post(client, data).status_code == 200

    comment = InboundMessage.objects.get()
    assert (comment.channel, comment.kind, comment.post_id, comment.text) == (
        "linkedin",
        "comment",
        "urn:li:share:1",
        "Interested",
    )


@pytest.mark.parametrize("signature", ["", "00" * 32])
def test_linkedin_unverifiable_posts_get_403(client, webhook_secrets, signature):
    assert li_post(client, {"notifications": []}, signature=signature).status_code == 403
    assert WebhookEvent.objects.count() == 0


def test_linkedin_malformed_gets_400(client, webhook_secrets):
    assert li_post(client, None, body=b"<xml/>").status_code == 400
    assert WebhookEvent.objects.count() == 0
