"""OpenAPI operations tagged by domain (contacts, outreach, inbox, …) instead of one 'api' tag."""

from drf_spectacular.openapi import AutoSchema


class DomainAutoSchema(AutoSchema):
    def get_tags(self) -> list[str]:
        """The view's API domain (its scope name), else the Django app it lives in."""
        domain = getattr(self.view, "domain", None)
        if domain:
            return [domain.replace("_", "-")]
        module = type(self.view).__module__.split(".")
        return [module[1] if module[0] == "madansara" and len(module) > 2 else module[0]]
