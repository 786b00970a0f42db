from rest_framework.throttling import SimpleRateThrottle


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per API key (or per user for sessions, per IP when anonymous)."""

    scope = "principal"

    def get_cache_key(self, request, view):
        auth = request.auth
        if auth is not None and hasattr(auth, "prefix"):
            ident = f"key:{auth.prefix}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
