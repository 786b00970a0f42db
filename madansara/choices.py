"""Choices shared by every app."""

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    INSTAGRAM = "instagram", "Instagram"
    FACEBOOK = "facebook", "Facebook Messenger"
    LINKEDIN = "linkedin", "LinkedIn"
    X = "x", "X (Twitter)"
    CHAT = "chat", "Website chat"
