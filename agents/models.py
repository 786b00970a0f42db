from django.conf import settings
from django.db import models
from django.utils import timezone

from madansara.models import PolicyAction


class ActionRequestStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    DONE = "done", "Approved and carried out"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Approved, but it could not be carried out"


class AgentActionRequest(models.Model):
    """An action an agent asked for while its policy tier is "human approval": nothing happens
    until a person approves it, then it is carried out exactly as asked (sends have their own
    queue: outreach's direct sends)."""

    action = models.CharField(max_length=40, choices=PolicyAction.choices)
    arguments = models.JSONField(help_text="The tool's arguments, as the agent gave them")
    status = models.CharField(
        max_length=10, choices=ActionRequestStatus.choices, default=ActionRequestStatus.PENDING, db_index=True
    )
    api_key = models.ForeignKey("madansara.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True, help_text="What was created (ids), once carried out")
    error = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_agentactionrequest", "Can approve or reject actions AI agents asked for")]

    def __str__(self):
        return f"#{self.pk} {self.get_action_display()} ({self.get_status_display()})"
