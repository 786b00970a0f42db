"""Agents' action tools under the action policy (campaign drafts, conversions) and the
best-practice recommendations tool, called as the MCP server calls them."""

import pytest

from agents import tools
from agents.models import ActionRequestStatus, AgentActionRequest
from agents.principal import Principal, ToolRefused
from agents.services import ActionRequestError, action_request_approve, action_request_reject
from bestpractices.models import BestPractice, Recommendation
from conversion.models import ConversionEvent
from madansara.models import ActionPolicy, APIKey, AuditEvent, PolicyAction, PolicyTier
from madansara.services import api_key_create
from madansara.tests.factories import make_contact, make_user
from outreach.models import ChannelTemplate, OutreachCampaign, Segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    key, _ = api_key_create(
        user=make_user("Admin"), name="agent", scopes=["*:read", "outreach:write", "conversion:write"]
    )
    return Principal(key=APIKey.objects.select_related("user").get(pk=key.pk))


@pytest.fixture
def segment():
    return Segment.objects.create(name="Leads", filters={"lifecycle_stage": ["lead"]})


def _approval(action):
    ActionPolicy.objects.create(action=action, tier=PolicyTier.APPROVAL)


def test_campaign_draft_under_approval_waits_until_a_marketer_approves(agent, segment):
    _approval(PolicyAction.CREATE_CAMPAIGN_DRAFT)
    with pytest.raises(ToolRefused, match="needs a subject"):
        tools.create_campaign_draft(agent, name="Spring", segment_id=segment.pk, channel="email", text="Hi")
    answer = tools.create_campaign_draft(
        agent, name="Spring", segment_id=segment.pk, channel="email", text="Hi", subject="Spring is here"
    )
    assert answer["status"] == "queued for approval"
    assert not OutreachCampaign.objects.exists() and not ChannelTemplate.objects.exists()
    request = AgentActionRequest.objects.get(pk=answer["request_id"])
    assert request.status == ActionRequestStatus.PENDING and request.api_key == agent.key
    assert AuditEvent.objects.filter(action="agents.create_campaign_draft", data__outcome="queued for approval")

    done = action_request_approve(request=request, actor=make_user("Marketer"))
    assert done.status == ActionRequestStatus.DONE, done.error
    campaign = OutreachCampaign.objects.get(pk=done.result["campaign_id"])
    assert (campaign.name, campaign.status, campaign.segment_id) == ("Spring", "draft", segment.pk)
    assert campaign.steps.get().templates.get().text == "Hi"
    with pytest.raises(ActionRequestError):
        action_request_approve(request=request, actor=make_user("Marketer"))  # decided once
    assert OutreachCampaign.objects.count() == 1


def test_conversion_under_approval_is_not_recorded_until_approved_and_never_if_rejected(agent):
    _approval(PolicyAction.RECORD_CONVERSION)
    contact = make_contact(name="Ana")
    first = tools.record_conversion(agent, external_id="o-1", type="purchase", value="20.50", contact_id=contact.pk)
    second = tools.record_conversion(agent, external_id="o-2", type="purchase", value="5", contact_id=contact.pk)
    assert first["status"] == second["status"] == "queued for approval"
    assert not ConversionEvent.objects.exists()

    marketer = make_user("Marketer")
    action_request_approve(request=AgentActionRequest.objects.get(pk=first["request_id"]), actor=marketer)
    action_request_reject(request=AgentActionRequest.objects.get(pk=second["request_id"]), actor=marketer)
    recorded = ConversionEvent.objects.get()
    assert (recorded.external_id, str(recorded.value), recorded.contact_id) == ("o-1", "20.50", contact.pk)
    assert AgentActionRequest.objects.get(pk=second["request_id"]).status == ActionRequestStatus.REJECTED


def test_bad_arguments_are_refused_when_asked_not_when_approved(agent, segment):
    _approval(PolicyAction.RECORD_CONVERSION)
    _approval(PolicyAction.CREATE_CAMPAIGN_DRAFT)
    with pytest.raises(ToolRefused, match="Unknown conversion type"):
        tools.record_conversion(agent, external_id="o-1", type="nope", contact_id=make_contact().pk)
    with pytest.raises(ToolRefused, match="No segment"):
        tools.create_campaign_draft(agent, name="X", segment_id=segment.pk + 99, channel="email", text="Hi")
    assert not AgentActionRequest.objects.exists()


def test_approval_needs_the_approve_permission_and_a_request_gone_stale_fails(agent, segment):
    _approval(PolicyAction.CREATE_CAMPAIGN_DRAFT)
    answer = tools.create_campaign_draft(agent, name="Spring", segment_id=segment.pk, channel="sms", text="Hi")
    request = AgentActionRequest.objects.get(pk=answer["request_id"])
    with pytest.raises(PermissionError):
        action_request_approve(request=request, actor=make_user("Agent"))
    segment.delete()  # the audience went away while the request waited
    failed = action_request_approve(request=request, actor=make_user("Admin"))
    assert failed.status == ActionRequestStatus.FAILED and "No segment" in failed.error
    assert not OutreachCampaign.objects.exists()


def test_auto_tier_acts_at_once_and_refused_tier_refuses(agent, segment):
    contact = make_contact()
    answer = tools.record_conversion(agent, external_id="o-9", type="purchase", value="3", contact_id=contact.pk)
    assert answer["status"] == "recorded" and ConversionEvent.objects.filter(pk=answer["conversion_id"]).exists()
    again = tools.record_conversion(agent, external_id="o-9", type="purchase", value="3", contact_id=contact.pk)
    assert again["status"] == "already recorded"
    made = tools.create_campaign_draft(agent, name="Now", segment_id=segment.pk, channel="sms", text="Hi")
    assert made["status"] == "draft created" and OutreachCampaign.objects.get(pk=made["campaign_id"]).status == "draft"
    ActionPolicy.objects.create(action=PolicyAction.CREATE_CAMPAIGN_DRAFT, tier=PolicyTier.REFUSED, note="not today")
    with pytest.raises(ToolRefused, match="not today"):
        tools.create_campaign_draft(agent, name="No", segment_id=segment.pk, channel="email", text="Hi")
    assert OutreachCampaign.objects.count() == 1 and not AgentActionRequest.objects.exists()


def test_recommendations_tool_returns_practices_and_open_recommendations(agent):
    practice = BestPractice.objects.create(
        feature="subject_question", value="true", baseline="false", outcome="opened", lift=0.18, ci_low=0.08,
        ci_high=0.29, n=12000, significant=True,
    )  # fmt: skip
    BestPractice.objects.create(
        feature="emoji", value="true", baseline="false", outcome="clicked", lift=-0.05, ci_low=-0.2, ci_high=0.1, n=900
    )
    template = ChannelTemplate.objects.create(name="welcome", channel="email", subject="Welcome", text="Hi")
    Recommendation.objects.create(
        practice=practice, template=template, title="Ask a question in the subject of 'welcome'", expected_lift=0.18,
        change={"field": "subject", "from": "Welcome", "to": "Ready for your first order?"},
    )  # fmt: skip
    answer = tools.best_practice_recommendations(agent, outcome="opened")
    assert [(p["feature"], p["lift"], p["significant"]) for p in answer["practices"]] == [
        ("subject_question", 0.18, True)
    ]
    assert answer["recommendations"][0]["template"] == "welcome"
    assert answer["recommendations"][0]["change"]["to"] == "Ready for your first order?"
    assert len(tools.best_practice_recommendations(agent)["practices"]) == 2
    assert AuditEvent.objects.filter(action="agents.best_practice_recommendations").count() == 2
    narrow, _ = api_key_create(user=agent.user, name="narrow", scopes=["contacts:read"])
    with pytest.raises(ToolRefused, match="bestpractices:read"):
        tools.best_practice_recommendations(Principal(key=narrow))
