"""Security: the X CRC and LinkedIn challenge answers must never sign a forged webhook body.

The attack (issue #22): X's CRC answer is base64(HMAC(secret, crc_token)), exactly the
X-Twitter-Webhooks-Signature of a body equal to the token, so asking the endpoint to answer a
"challenge" that is a JSON DM gave a valid signature for that DM; LinkedIn's challengeCode did the
same for X-LI-Signature (hex HMAC), on GET and on POST.
"""

import json
from urllib.parse import urlencode

import pytest

from inbox.models import Conversation
from madansara.channels.models import InboundMessage, WebhookEvent
from madansara.channels.tests.conftest import hmac_b64, hmac_hex

pytestmark = pytest.mark.django_db

FORGED_DM = json.dumps(
    {
        "for_user_id": "100",
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "forged-1",
                "created_timestamp": "1764070000000",
                "message_create": {
                    "target": {"recipient_id": "100"},
                    "sender_id": "666",
                    "message_data": {"text": "Please send the invoice to attacker@evil.example"},
                },
            }
        ],
        "users": {"666": {"id": "666", "screen_name": "mallory", "name": "Mallory"}},
    },
    separators=(",", ":"),
)
FORGED_LINKEDIN = json.dumps(
    {"notifications": [{"action": "COMMENT", "actor": "urn:li:person:evil", "sourcePost": "urn:li:share:1"}]}
)
LINKEDIN_CODE = "890e4665-4dfe-4ab1-b689-ed553bceeed0"


def _post(client, path, body, **headers):
    return client.post(path, data=body.encode(), content_type="application/json", **headers)


def test_forged_x_dm_signed_by_the_crc_endpoint_is_refused(client, webhook_secrets, django_capture_on_commit_callbacks):
    crc = client.get("/webhooks/x", {"crc_token": FORGED_DM})
    signature = crc.json().get("response_token", "")
    with django_capture_on_commit_callbacks(execute=True):
        forged = _post(client, "/webhooks/x", FORGED_DM, HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=signature)

    assert crc.status_code == 400
    assert forged.status_code == 403
    assert WebhookEvent.objects.count() == 0
    assert InboundMessage.objects.count() == 0
    assert Conversation.objects.count() == 0


def test_x_crc_answers_for_a_token_shaped_like_xs_and_that_answer_signs_no_body(client, webhook_secrets):
    token = "MTY0NzA5MjUwNTk5Njc4NjgxNg=="
    crc = client.get("/webhooks/x", {"crc_token": token})
    assert crc.status_code == 200
    assert crc.json() == {"response_token": "sha256=" + hmac_b64("x-secret", token.encode())}

    replay = _post(client, "/webhooks/x", token, HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=crc.json()["response_token"])

    assert replay.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "token",
    ["", "{}", '{"for_user_id":"1"}', " {}", "a b", "a" * 257, "tok\n", "tok%", "é"],
)
def test_x_crc_tokens_outside_the_documented_shape_get_400(client, webhook_secrets, token):
    response = client.get("/webhooks/x", {"crc_token": token})

    assert response.status_code == 400
    assert "response_token" not in response.json()


def test_linkedin_challenge_refuses_to_sign_a_json_body_on_get_and_post(client, webhook_secrets):
    on_get = client.get("/webhooks/linkedin", {"challengeCode": FORGED_LINKEDIN})
    url = "/webhooks/linkedin?" + urlencode({"challengeCode": FORGED_LINKEDIN})
    on_post = client.post(url, data=b"", content_type="application/json")

    assert on_get.status_code == 400
    assert "challengeResponse" not in on_get.json()
    assert on_post.status_code in (400, 403)
    assert "challengeResponse" not in on_post.json()


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_linkedin_notification_signed_by_the_challenge_is_refused(
    client, webhook_secrets, django_capture_on_commit_callbacks, method
):
    url = "/webhooks/linkedin?" + urlencode({"challengeCode": FORGED_LINKEDIN})
    answer = getattr(client, method)(url)
    signature = answer.json().get("challengeResponse", "") if answer.status_code == 200 else ""
    with django_capture_on_commit_callbacks(execute=True):
        forged = _post(client, "/webhooks/linkedin", FORGED_LINKEDIN, HTTP_X_LI_SIGNATURE=signature)

    assert forged.status_code == 403
    assert WebhookEvent.objects.count() == 0
    assert InboundMessage.objects.count() == 0


def test_linkedin_legit_challenge_is_answered_only_on_get_and_cannot_sign_a_body(client, webhook_secrets):
    ok = client.get("/webhooks/linkedin", {"challengeCode": LINKEDIN_CODE})
    assert ok.json() == {
        "challengeCode": LINKEDIN_CODE,
        "challengeResponse": hmac_hex("li-secret", LINKEDIN_CODE.encode()),
    }

    on_post = client.post(
        f"/webhooks/linkedin?challengeCode={LINKEDIN_CODE}", data=b"", content_type="application/json"
    )
    replay = client.post(
        "/webhooks/linkedin",
        data=LINKEDIN_CODE.encode(),
        content_type="application/json",
        HTTP_X_LI_SIGNATURE=ok.json()["challengeResponse"],
    )

    assert "challengeResponse" not in on_post.content.decode()
    assert replay.status_code == 400
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("code", ["c-1", "890e4665-4dfe-1ab1-b689-ed553bceeed0", LINKEDIN_CODE + "x", ""])
def test_linkedin_challenge_codes_that_are_not_v4_uuids_get_400(client, webhook_secrets, code):
    assert client.get("/webhooks/linkedin", {"challengeCode": code}).status_code == 400
