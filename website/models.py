import secrets

from django.db import models


def new_public_key() -> str:
    return f"site_{secrets.token_urlsafe(12)}"


class Site(models.Model):
    """A website that runs the Madan Sara tracker."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, help_text="Main host name, e.g. shop.example.com")
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    allowed_origins = models.JSONField(
        default=list, blank=True, help_text='Origins allowed to send events, e.g. ["https://shop.example.com"]'
    )
    respect_dnt = models.BooleanField(default=True, help_text="Honour Do-Not-Track / Global Privacy Control")
    cookieless = models.BooleanField(default=False, help_text="Do not store an anonymous id on the device")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def allows_origin(self, origin: str) -> bool:
        return bool(origin) and origin.rstrip("/") in {o.rstrip("/") for o in self.allowed_origins}
