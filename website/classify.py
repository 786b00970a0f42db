"""Pure classification rules: bots, devices, IP truncation, traffic source and customer type."""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qs, urlsplit

from user_agents import parse as parse_user_agent

HEADLESS_MARKERS = (
    "headless",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "lighthouse",
    "python-requests",
    "python-httpx",
    "curl/",
    "wget/",
    "go-http-client",
    "okhttp",
    "java/",
    "node-fetch",
    "axios/",
    "scrapy",
)

SEARCH_ENGINES = (
    "google.",
    "bing.com",
    "duckduckgo.com",
    "yahoo.",
    "yandex.",
    "baidu.com",
    "ecosia.org",
    "qwant.com",
    "startpage.com",
    "search.brave.com",
)
SOCIAL_NETWORKS = (
    "facebook.com",
    "fb.com",
    "instagram.com",
    "t.co",
    "twitter.com",
    "x.com",
    "linkedin.com",
    "lnkd.in",
    "reddit.com",
    "pinterest.",
    "tiktok.com",
    "youtube.com",
    "whatsapp.com",
    "threads.net",
)
PAID_MEDIUMS = {"cpc", "ppc", "paid", "paidsearch", "paid_search", "sem", "display", "cpm"}
PAID_SEARCH_CLICK_IDS = ("gclid", "msclkid", "gbraid", "wbraid", "dclid")
PAID_SOCIAL_CLICK_IDS = ("fbclid", "ttclid", "li_fat_id", "twclid")
SOCIAL_MEDIUMS = {"social", "social-network", "social-media", "sm", "social_network"}
EMAIL_MEDIUMS = {"email", "e-mail", "newsletter", "mail"}
OUTREACH_PARAM = "ms_mid"


class TrafficSource:
    """Traffic source classes, most specific rule first."""

    OUTREACH = "outreach"
    PAID_SEARCH = "paid_search"
    ORGANIC_SEARCH = "organic_search"
    SOCIAL = "social"
    EMAIL = "email"
    REFERRAL = "referral"
    DIRECT = "direct"


@dataclass(frozen=True)
class Landing:
    """What a session's first event tells about where the visitor came from."""

    source: str
    medium: str
    campaign: str
    traffic_class: str
    outreach_message_id: str


@dataclass(frozen=True)
class Client:
    """Device, browser and OS of a user agent, and whether it is a bot."""

    device: str
    browser: str
    os: str
    is_bot: bool


@lru_cache(maxsize=4096)
def parse_client(user_agent: str) -> Client:
    """Parse a user agent once (cached); bots include headless browsers and HTTP libraries."""
    lowered = (user_agent or "").lower()
    if not lowered:
        return Client("other", "", "", True)
    parsed = parse_user_agent(user_agent)
    if parsed.is_mobile:
        device = "mobile"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = "other"
    is_bot = parsed.is_bot or any(marker in lowered for marker in HEADLESS_MARKERS)
    return Client(device, parsed.browser.family[:40], parsed.os.family[:40], is_bot)


def truncate_ip(address: str) -> str:
    """Zero the host part of an IP address (/24 for IPv4, /48 for IPv6); '' if invalid."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _matches(host: str, domains: tuple[str, ...]) -> bool:
    return any(
        host == d.rstrip(".") or host.endswith("." + d.rstrip(".")) or (d.endswith(".") and d in host) for d in domains
    )


def classify_landing(url: str, referrer: str = "") -> Landing:
    """Classify a landing page URL and its referrer into source / medium / campaign / class."""
    try:
        params = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items() if v}
    except ValueError:
        params = {}
    source = params.get("utm_source", "")[:100]
    medium = params.get("utm_medium", "")[:100]
    campaign = params.get("utm_campaign", "")[:200]
    message_id = params.get(OUTREACH_PARAM, "")[:64]
    ref_host = _host(referrer)
    if ref_host and ref_host == _host(url):
        ref_host = ""  # internal navigation is not a source
    lowered_medium = medium.lower()
    if message_id or lowered_medium == "outreach":
        traffic_class = TrafficSource.OUTREACH
    elif any(k in params for k in PAID_SEARCH_CLICK_IDS) or (
        lowered_medium in PAID_MEDIUMS and not _matches(ref_host, SOCIAL_NETWORKS)
    ):
        traffic_class = TrafficSource.PAID_SEARCH
    elif any(k in params for k in PAID_SOCIAL_CLICK_IDS) or lowered_medium in SOCIAL_MEDIUMS:
        traffic_class = TrafficSource.SOCIAL
    elif lowered_medium in EMAIL_MEDIUMS:
        traffic_class = TrafficSource.EMAIL
    elif _matches(ref_host, SEARCH_ENGINES):
        traffic_class = TrafficSource.ORGANIC_SEARCH
    elif _matches(ref_host, SOCIAL_NETWORKS):
        traffic_class = TrafficSource.SOCIAL
    elif ref_host or source:
        traffic_class = TrafficSource.REFERRAL
    else:
        traffic_class = TrafficSource.DIRECT
    if not source and ref_host:
        source = ref_host[:100]
    if not medium:
        medium = {
            TrafficSource.ORGANIC_SEARCH: "organic",
            TrafficSource.REFERRAL: "referral",
            TrafficSource.SOCIAL: "social",
            TrafficSource.DIRECT: "(none)",
        }.get(traffic_class, "")
    return Landing(source, medium, campaign, traffic_class, message_id)
