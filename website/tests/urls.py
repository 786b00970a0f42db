"""Host pages for the tracker's browser tests, the ingest endpoint and the A/B engine's public endpoint."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csp import csp_override

from website.models import Site

PAGE = """<!doctype html><html><head><title>{title}</title>
<script defer src="/static/madansara.min.js" data-site="{key}"{dnt}></script></head>
<body><h1>{title}</h1>
<button id="buy" data-ms-event="cta_click" data-ms-prop-color="green"><span>Buy now</span></button>
<a id="next" href="/app/step2">Next step</a>
<script>
document.getElementById("next").addEventListener("click", function (e) {{
  e.preventDefault(); history.pushState({{}}, "", "/app/step2"); document.title = "Step 2";
}});
</script></body></html>"""


@csp_override({})  # a customer's page, not ours: the console's policy does not apply to it
def host_page(request):
    site = Site.objects.get(name="Browser shop")
    options = (" data-dnt" if site.respect_dnt else "") + (" data-autocapture" if "autocapture" in request.GET else "")
    return HttpResponse(PAGE.format(title="Home", key=site.public_key, dnt=options))


urlpatterns = [
    path("shop/", host_page),
    path("ab/", include("abtesting.urls")),
    path("", include("website.urls")),
]
