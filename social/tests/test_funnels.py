"""Comment-to-DM funnels through the channel layer (sandbox provider): private reply, steps, limits, stats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from madansara.channels.models import Message, MessageStatus
from madansara.tests.factories import key_client, make_user
from social.models import (
    FunnelRun,
    FunnelStep,
    PrivateReply,
    RunStatus,
    SocialComment,
    SocialEngagementFunnel,
    SocialPost,
)
from social.services.funnels import PrivateReplyRefused, private_reply_create
from social.tests.helpers import deliver_inbound

pytestmark = pytest.mark.django_db


@pytest.fixture
def funnel(instagram):
    post = SocialPost.objects.create(account=instagram, external_id="m-guide", published_at=timezone.now())
    funnel = SocialEngagementFunnel.objects.create(
        account=instagram, name="Pricing guide", post=post, keywords=["guide"]
    )
    FunnelStep.objects.bulk_create(
        [
            FunnelStep(
                funnel=funnel, position=0, action="ask_email", text="Hi {{ name }}! Where should we send the guide?"
            ),
            FunnelStep(
                funnel=funnel,
                position=1,
                action="send_link",
                text="Here it is: {{ link }}",
                link="https://ms.example/guide",
            ),
            FunnelStep(funnel=funnel, position=2, action="handover_campaign", campaign_tag="guide-nurture"),
        ]
    )
    return funnel


def comment(capture, **kwargs):
    with capture(execute=True):
        deliver_inbound(**kwargs)
    return SocialComment.objects.get(external_id=kwargs["external_id"])


def test_keyword_comment_starts_the_funnel_and_the_sequence_runs_to_handover(
    funnel, django_capture_on_commit_callbacks
):
    # when someone comments the keyword on the chosen post
    c = comment(django_capture_on_commit_callbacks, text="GUIDE please!", external_id="c-1", post_id="m-guide")
    # then a private reply goes out through the channel layer, tied to the comment, and the run waits
    run = FunnelRun.objects.get(funnel=funnel)
    assert run.contact == c.contact and run.status == RunStatus.WAITING_REPLY
    dm = Message.objects.get(context__comment_id="c-1")
    assert dm.status == MessageStatus.SENT and dm.source == "social"
    assert dm.text == "Hi rose.boutique! Where should we send the guide?"
    assert PrivateReply.objects.get(comment=c).message == dm
    # when the person answers the DM with an email address
    with django_capture_on_commit_callbacks(execute=True):
        deliver_inbound(kind="message", text="sure: Rose@Example.com", external_id="dm-1", contact=c.contact)
    # then the DM counts as an engagement, the email is captured, the link delivered, and the contact handed to the campaign (tag)
    run.refresh_from_db()
    assert run.email == "rose@example.com" and run.replied_at is not None
    from social.models import SocialEngagement

    assert SocialEngagement.objects.get(kind="dm", external_id="dm-1").contact == c.contact
    assert run.status == RunStatus.HANDED_OVER
    assert c.contact.identities.filter(channel="email", value="rose@example.com").exists()
    link_dm = Message.objects.filter(contact=c.contact).exclude(pk=dm.pk).get()
    assert link_dm.text == "Here it is: https://ms.example/guide" and link_dm.status == MessageStatus.SENT
    assert c.contact.tags.filter(name="guide-nurture").exists()


def test_comment_on_another_post_or_without_keyword_does_not_trigger(funnel, django_capture_on_commit_callbacks):
    SocialPost.objects.create(account=funnel.account, external_id="m-other", published_at=timezone.now())
    comment(django_capture_on_commit_callbacks, text="guide", external_id="c-2", post_id="m-other")
    comment(django_capture_on_commit_callbacks, text="nice colours", external_id="c-3", post_id="m-guide", sender="bob")
    assert not FunnelRun.objects.exists()


def test_second_private_reply_to_the_same_comment_is_refused(funnel, django_capture_on_commit_callbacks):
    c = comment(django_capture_on_commit_callbacks, text="guide", external_id="c-4", post_id="m-guide")
    assert PrivateReply.objects.filter(comment=c).count() == 1
    # when anything tries a second private reply to that comment
    with pytest.raises(PrivateReplyRefused):
        private_reply_create(comment=c, text="Another one")
    # then only one private reply exists (a DB unique constraint enforces it)
    assert Message.objects.filter(context__comment_id="c-4").count() == 1


def test_private_reply_to_a_comment_older_than_7_days_is_refused(instagram):
    from madansara.contacts.services import contact_get_or_create_by_identity

    contact, _, _ = contact_get_or_create_by_identity(channel="instagram", value="old.fan")
    c = SocialComment.objects.create(
        account=instagram, external_id="c-old", author_handle="old.fan", contact=contact,
        commented_at=timezone.now() - timedelta(days=8),
    )  # fmt: skip
    with pytest.raises(PrivateReplyRefused, match="7 days"):
        private_reply_create(comment=c, text="Hi")
    assert not PrivateReply.objects.exists()


def test_same_contact_cannot_have_two_open_runs_of_a_funnel(funnel, django_capture_on_commit_callbacks):
    comment(django_capture_on_commit_callbacks, text="guide", external_id="c-5", post_id="m-guide")
    comment(django_capture_on_commit_callbacks, text="guide again", external_id="c-6", post_id="m-guide")
    assert FunnelRun.objects.filter(funnel=funnel).count() == 1


def test_step_after_the_24h_window_fails_the_run(funnel, django_capture_on_commit_callbacks):
    # given a run waiting for the person's reply
    c = comment(django_capture_on_commit_callbacks, text="guide", external_id="c-7", post_id="m-guide")
    # when their reply is processed but their last message is older than 24 h (window closed)
    with django_capture_on_commit_callbacks(execute=True):
        inbound = deliver_inbound(kind="message", text="me@example.org", external_id="dm-7", contact=c.contact)
        c.contact.identities.filter(channel="instagram").update(
            last_inbound_at=inbound.received_at - timedelta(hours=25)
        )
    # then the channel layer refuses the next DM and the run fails with the reason
    run = FunnelRun.objects.get(funnel=funnel)
    assert run.status == RunStatus.FAILED
    assert "window_closed" in run.last_error


def test_reply_without_email_keeps_waiting(funnel, django_capture_on_commit_callbacks):
    c = comment(django_capture_on_commit_callbacks, text="guide", external_id="c-8", post_id="m-guide")
    with django_capture_on_commit_callbacks(execute=True):
        deliver_inbound(kind="message", text="what guide?", external_id="dm-8", contact=c.contact)
    run = FunnelRun.objects.get(funnel=funnel)
    assert run.status == RunStatus.WAITING_REPLY and run.replied_at is not None
    assert Message.objects.filter(contact=c.contact).count() == 1


def test_mention_trigger(instagram, django_capture_on_commit_callbacks):
    funnel = SocialEngagementFunnel.objects.create(account=instagram, name="Thank mentions", trigger="mention")
    FunnelStep.objects.create(funnel=funnel, position=0, action="send_dm", text="Thanks for the shout-out!")
    from madansara.contacts.services import contact_get_or_create_by_identity

    contact, identity, _ = contact_get_or_create_by_identity(channel="instagram", value="lakay.style")
    identity.last_inbound_at = timezone.now()
    identity.save()
    with django_capture_on_commit_callbacks(execute=True):
        deliver_inbound(
            kind="mention", text="Love @brand", external_id="mention-1", sender="lakay.style", contact=contact
        )
    run = FunnelRun.objects.get(funnel=funnel)
    assert run.dm_sent_at is not None
    assert Message.objects.get(contact=contact).context["comment_id"] == "mention-1"


def test_funnel_stats_and_conversion_through_attribution(funnel, django_capture_on_commit_callbacks):
    from conversion.models import ConversionType, CustomerTouchpoint
    from conversion.services import conversion_record, funnel_runs_mark_converted

    c = comment(django_capture_on_commit_callbacks, text="guide", external_id="c-9", post_id="m-guide")
    # the funnel DM is a touchpoint the attribution engine credits
    tp = CustomerTouchpoint.objects.get(source="social", source_key__startswith="social-funnel-run:")
    assert tp.contact == c.contact and tp.campaign == f"social-funnel:{funnel.pk}"
    ConversionType.objects.get_or_create(code="purchase", defaults={"name": "Purchase"})
    conversion_record(external_id="order-1", type="purchase", contact_id=c.contact_id, occurred_at=timezone.now())
    assert funnel_runs_mark_converted() == 1
    client, _ = key_client(make_user("Marketer"), ["social:read"])
    data = client.get(f"/api/v1/social/funnels/{funnel.pk}").json()
    assert (data["triggered"], data["dm_sent"], data["replied"], data["converted"]) == (1, 1, 0, 1)


def _interrupted_after_the_link_dm(funnel, capture, monkeypatch):
    """A run whose link DM went out but whose worker died before the run recorded it (the task
    is then redelivered: acks_late). Returns the run."""
    from social.models import FunnelRun as Run

    c = comment(capture, text="GUIDE please!", external_id="c-crash", post_id="m-guide")
    real_save = Run.save
    died = []

    def dies_once_after_the_send(self, *args, **kwargs):
        if "position" in (kwargs.get("update_fields") or ()) and self.position == 2 and not died:
            died.append(self.pk)
            raise RuntimeError("worker died after the provider call")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Run, "save", dies_once_after_the_send)
    with pytest.raises(RuntimeError), capture(execute=True):
        deliver_inbound(kind="message", text="rose@example.com", external_id="dm-crash", contact=c.contact)
    monkeypatch.setattr(Run, "save", real_save)
    return FunnelRun.objects.get(funnel=funnel)


def test_a_redelivered_advance_never_sends_a_step_twice(funnel, django_capture_on_commit_callbacks, monkeypatch):
    from social.tasks import funnel_run_advance_task

    # given a run whose link DM was sent by a worker that died before recording the step
    run = _interrupted_after_the_link_dm(funnel, django_capture_on_commit_callbacks, monkeypatch)
    assert (run.position, run.pending_message.status) == (1, MessageStatus.SENT)
    # when the task is delivered again
    funnel_run_advance_task.apply(args=[run.pk])
    # then the step counts as done: the person got one link DM, and the run went on
    links = Message.objects.filter(contact=run.contact, text__startswith="Here it is")
    assert links.count() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.HANDED_OVER and run.pending_message is None


def test_an_advance_never_sends_a_second_message_while_the_first_is_in_flight(
    funnel, django_capture_on_commit_callbacks
):
    from social.tasks import funnel_run_advance_task

    c = comment(django_capture_on_commit_callbacks, text="GUIDE please!", external_id="c-busy", post_id="m-guide")
    run = FunnelRun.objects.get(funnel=funnel)
    # given a run on its link step whose DM another worker is sending right now
    in_flight = Message.objects.create(
        channel="instagram", contact=c.contact, to="rose.boutique", text="Here it is", status=MessageStatus.SENDING
    )
    FunnelRun.objects.filter(pk=run.pk).update(status=RunStatus.ACTIVE, position=1, pending_message=in_flight)
    # when a second advance of the same run runs (a retry, a reply resuming it)
    assert funnel_run_advance_task.apply(args=[run.pk]).get() == "retry"
    # then it sends nothing: no second message, the step still waits for the first one
    assert Message.objects.filter(contact=c.contact).count() == 2  # the private reply and the one in flight
    run.refresh_from_db()
    assert (run.position, run.pending_message_id) == (1, in_flight.pk)
