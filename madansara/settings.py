"""Madan Sara settings: everything comes from the environment.

With no environment at all (a new laptop) it runs on SQLite, a filesystem Celery broker,
an in-process cache and sandbox channel providers. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY, DEBUG=0, ALLOWED_HOSTS and each provider's credentials (see README.md).
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MADANSARA_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean environment variable (1/true/yes/on)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Read a comma-separated environment variable."""
    value = os.environ.get(name)
    if not value:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

# --- core -----------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-madansara-local-development-only-key-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL used in links we send (tracking, unsubscribe, status callbacks).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "madansara",
    "madansara.contacts",
    "madansara.channels",
    "madansara.notifications",
    "madansara.webhooks_out",
    "outreach",
    "conversion",
    "abtesting",
    "inbox",
    "website",
    "social",
    "bestpractices",
    "agents",
]

MIDDLEWARE = [
    "madansara.metrics.MetricsMiddleware",  # outermost: times and counts every answer
    "madansara.observability.RequestIdMiddleware",
    "madansara.observability.LivenessMiddleware",  # /healthz before host checks and HTTPS redirects
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into its 429 answer
]
if env_bool("MADANSARA_ASGI", default=False):
    # The ASGI process (madansara/asgi.py) serves long-polls, not files: every other middleware
    # is async capable, WhiteNoise's is not and would run each request on a thread.
    MIDDLEWARE.remove("whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "madansara.urls"
WSGI_APPLICATION = "madansara.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",  # csp_nonce for the few inline scripts
                "madansara.console.console_nav",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    _pool = env_bool("DATABASE_POOL", default=False)
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=0 if _pool else env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=not _pool,
        )
    }
    if _pool and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2),
            "max_size": env_int("DATABASE_POOL_MAX", 20),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "madansara.sqlite3",
            # web, worker and beat share one file: WAL + IMMEDIATE avoid "database is locked".
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # Tests run on a file too, not on SQLite's shared in-memory database: pytest-django
            # hands the live server's request threads the test's one in-memory connection, and
            # concurrent requests on one sqlite3 connection corrupt each other (IndexError in a
            # row, "bad parameter or other API misuse"). A file gives each thread its own
            # connection; WAL lets them read while one writes. xdist workers get a suffix each.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache & broker ---------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Parallel test processes share one Redis: each gets its own prefix to clear.
            "KEY_PREFIX": "madansara" + (f"-test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}" if TESTING else ""),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
# Also the ceiling of every retry countdown (madansara.channels.retry): see README.
QUEUE_VISIBILITY_TIMEOUT = env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control
        "store_processed": False,
    }
    # The filesystem transport has no fanout exchange: no remote control or events.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    # kombu's transport with atomic writes (a worker could otherwise read a half-written file).
    CELERY_BROKER_TRANSPORT = "madansara.broker:Transport"
else:
    # Redis re-delivers a task not acknowledged within this many seconds (acks_late: a worker
    # died mid-task). Must exceed the longest task and the longest countdown/ETA (see README).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": QUEUE_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or (REDIS_URL or None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- auth, i18n, static -----------------------------------------------------------------
# django-axes watches every password login (the console's): after LOGIN_FAILURE_LIMIT wrong
# passwords for one username from one address, that pair is refused (429) for LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # a remote guesser cannot lock a user out everywhere
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)

# --- security (production profile: DEBUG=0) ---------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy on every HTML page (console, API docs, landing): scripts only from our
# origin or with the per-response nonce; styles may be inline (style attributes in the console's
# templates and charts carry no script).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF, "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if env_bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", default=False)
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "madansara.api.authentication.APIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["madansara.api.permissions.DomainPermission"],
    # a JSON API: form and multipart bodies are refused (415) instead of half-parsed
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "madansara.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "madansara.api.filters.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "madansara.api.throttling.PrincipalRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "principal": os.environ.get("API_THROTTLE_RATE", "100000/hour" if TESTING else "6000/min"),
        "bulk": os.environ.get("API_THROTTLE_BULK_RATE", "10000/hour" if TESTING else "120/min"),
        "public": os.environ.get("API_THROTTLE_PUBLIC_RATE", "100000/hour" if TESTING else "600/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "madansara.api.schema.DomainAutoSchema",  # operations tagged by domain
    "EXCEPTION_HANDLER": "madansara.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Madan Sara API",
    "DESCRIPTION": "Multi-channel outreach, unified inbox, experiments, tracking and attribution.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- logging: JSON lines with the request id; no secrets or bodies at INFO --------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "madansara.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- product ----------------------------------------------------------------------------
# Region used to read phone numbers written without a +country prefix (None: + required).
DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION") or None
# ISO 4217 code of reports: message costs, ad spend and attributed revenue are summed in it.
CURRENCY = os.environ.get("CURRENCY", "USD")
ANTHROPIC_API_KEY = os.environ.get("ANTHROPIC_API_KEY", "")
ANTHROPIC_BASE_URL = os.environ.get("ANTHROPIC_BASE_URL") or None
ANTHROPIC_MODEL = os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-4-6")

# --- channels ---------------------------------------------------------------------------
# Provider credentials; a channel whose credentials are missing uses the sandbox provider.
SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "")
SENDGRID_API_HOST = os.environ.get("SENDGRID_API_HOST", "https://api.sendgrid.com")
SENDGRID_EVENT_PUBLIC_KEY = os.environ.get("SENDGRID_EVENT_PUBLIC_KEY", "")
SENDGRID_INBOUND_SECRET = os.environ.get("SENDGRID_INBOUND_SECRET", "")
EMAIL_FROM_ADDRESS = os.environ.get("EMAIL_FROM_ADDRESS", "hello@madansara.local")
EMAIL_FROM_NAME = os.environ.get("EMAIL_FROM_NAME", "Madan Sara")
EMAIL_REPLY_DOMAIN = os.environ.get("EMAIL_REPLY_DOMAIN", "reply.madansara.local")
COMPANY_POSTAL_ADDRESS = os.environ.get(
    "COMPANY_POSTAL_ADDRESS", "Madan Sara Ltd, 1 Market Street, Port-au-Prince, Haiti"
)
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL", "")
TWILIO_SMS_FROM = os.environ.get("TWILIO_SMS_FROM", "")
TWILIO_WHATSAPP_FROM = os.environ.get("TWILIO_WHATSAPP_FROM", "")
META_PAGE_ACCESS_TOKEN = os.environ.get("META_PAGE_ACCESS_TOKEN", "")
META_APP_SECRET = os.environ.get("META_APP_SECRET", "")
META_VERIFY_TOKEN = os.environ.get("META_VERIFY_TOKEN", "")
META_GRAPH_URL = os.environ.get("META_GRAPH_URL", "https://graph.facebook.com/v21.0")
X_BEARER_TOKEN = os.environ.get("X_BEARER_TOKEN", "")
X_CONSUMER_SECRET = os.environ.get("X_CONSUMER_SECRET", "")
X_API_URL = os.environ.get("X_API_URL", "https://api.x.com/2")
LINKEDIN_ACCESS_TOKEN = os.environ.get("LINKEDIN_ACCESS_TOKEN", "")
LINKEDIN_CLIENT_SECRET = os.environ.get("LINKEDIN_CLIENT_SECRET", "")
LINKEDIN_API_URL = os.environ.get("LINKEDIN_API_URL", "https://api.linkedin.com/rest")
# Proxy headers trusted when rebuilding the public URL for webhook signatures.
WEBHOOK_TRUST_FORWARDED_HEADERS = env_bool("WEBHOOK_TRUST_FORWARDED_HEADERS", default=False)

# --- channels (helper) ---
CHANNEL_HTTP_TIMEOUT = float(os.environ.get("CHANNEL_HTTP_TIMEOUT", "10"))
CHANNEL_HTTP_CONNECT_TIMEOUT = float(os.environ.get("CHANNEL_HTTP_CONNECT_TIMEOUT", "5"))
# "email=sandbox,sms=twilio": force a channel's provider (`sandbox`, or the real one without checking credentials).
CHANNEL_PROVIDERS = os.environ.get("CHANNEL_PROVIDERS", "")

# --- outbound webhooks (madansara.webhooks_out) ---
# Endpoints on loopback/private/link-local addresses are refused unless an operator allows them.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_TIMEOUT = float(os.environ.get("WEBHOOKS_TIMEOUT", "10"))
# An endpoint is disabled once it failed this many attempts in a row for at least this many hours.
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 10)
WEBHOOKS_DISABLE_AFTER_HOURS = float(os.environ.get("WEBHOOKS_DISABLE_AFTER_HOURS", "24"))
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["WebhookEventTypeEnum"] = (
    "madansara.webhooks_out.models.EventType"
)
# A rate-limited send sleeps up to this long for a token, else it is retried later.
CHANNEL_RATE_LIMIT_MAX_SLEEP = float(os.environ.get("CHANNEL_RATE_LIMIT_MAX_SLEEP", "0.5"))

# --- live updates and website chat (madansara/live.py, website/chat/) ---------------------
# Seconds between the per-process hub's looks for new live events (delivery latency floor).
LIVE_POLL_INTERVAL = float(os.environ.get("LIVE_POLL_INTERVAL", "0.2"))
# How long one long-poll waits before answering "nothing new" (the client polls again at once).
LIVE_LONG_POLL_SECONDS = float(os.environ.get("LIVE_LONG_POLL_SECONDS", "25"))
# An agent's "viewing / replying" notice disappears when their page has not heartbeat for this long.
LIVE_PRESENCE_TTL_SECONDS = env_int("LIVE_PRESENCE_TTL_SECONDS", 45)
# The ASGI process keeps the database connections of its few pool threads (madansara.live.pooled).
LIVE_PERSISTENT_CONNECTIONS = env_bool("MADANSARA_ASGI", default=False)
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 2000)
CHAT_MAX_BODY_BYTES = env_int("CHAT_MAX_BODY_BYTES", 8192)
CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = env_int("CHAT_MESSAGES_PER_VISITOR_PER_MINUTE", 20)
CHAT_MESSAGES_PER_SITE_PER_MINUTE = env_int("CHAT_MESSAGES_PER_SITE_PER_MINUTE", 600)
CHAT_POLLS_PER_VISITOR_PER_MINUTE = env_int("CHAT_POLLS_PER_VISITOR_PER_MINUTE", 120)
CHAT_TOKEN_MAX_AGE_DAYS = env_int("CHAT_TOKEN_MAX_AGE_DAYS", 30)
# A visitor not seen polling for this long is away: replies also go to the e-mail they left.
CHAT_AWAY_AFTER_SECONDS = env_int("CHAT_AWAY_AFTER_SECONDS", 60)
# "redis" (default with REDIS_URL), "db" (default without) or "memory" (one process only).
CHANNEL_RATE_LIMIT_BACKEND = os.environ.get("CHANNEL_RATE_LIMIT_BACKEND", "")
# Signed webhooks older than this (SendGrid timestamp) are refused as replays.
WEBHOOK_MAX_AGE_SECONDS = env_int("WEBHOOK_MAX_AGE_SECONDS", 300)
SENDGRID_INBOUND_MAX_BYTES = env_int("SENDGRID_INBOUND_MAX_BYTES", 30 * 1024 * 1024)
X_SENDER_USER_ID = os.environ.get("X_SENDER_USER_ID", "")
# The Twilio SDK logs request details at INFO: keep message data out of the logs.
LOGGING["loggers"]["twilio.http_client"] = {"level": "WARNING"}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "MessageStatusEnum": "madansara.channels.models.MessageStatus",
        "WebhookStatusEnum": "madansara.channels.models.WebhookStatus",
    }
)

# --- social ---
SOCIAL_SCORE_HALF_LIFE_DAYS = float(os.environ.get("SOCIAL_SCORE_HALF_LIFE_DAYS", "30"))
SOCIAL_SCORE_HORIZON_DAYS = env_int("SOCIAL_SCORE_HORIZON_DAYS", 365)
SOCIAL_ADVOCATE_WINDOW_DAYS = env_int("SOCIAL_ADVOCATE_WINDOW_DAYS", 90)
SOCIAL_ADVOCATE_MIN_ACTIONS = env_int("SOCIAL_ADVOCATE_MIN_ACTIONS", 3)
SOCIAL_ADVOCATE_CAMPAIGN_TAG = os.environ.get("SOCIAL_ADVOCATE_CAMPAIGN_TAG", "advocate-campaign")
SOCIAL_COMMENT_SYNC_DAYS = env_int("SOCIAL_COMMENT_SYNC_DAYS", 14)
# Synced comments older than this are stored but not auto-handled (backfills never reply to old comments).
SOCIAL_HANDLE_SYNCED_WITHIN_HOURS = env_int("SOCIAL_HANDLE_SYNCED_WITHIN_HOURS", 24)
SOCIAL_SCORING_WORK_MEM = os.environ.get("SOCIAL_SCORING_WORK_MEM", "64MB")  # PostgreSQL work_mem of a rescoring
# Code-level defaults under the admin's rows: {"like": 1.0, ...} per engagement kind; {"champion": 60.0, ...}.
SOCIAL_ENGAGEMENT_WEIGHTS: dict[str, float] = {}
SOCIAL_ADVOCATE_TIERS: dict[str, float] = {}

# --- conversion ---
# The touchpoint channel taxonomy is wider than the messaging channels: give it its own schema name.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["TouchpointChannelEnum"] = "conversion.models.Channel"
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].setdefault("ChannelEnum", "madansara.choices.Channel")

# --- outreach ---
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "OutreachCampaignStatusEnum": "outreach.models.campaigns.CampaignStatus",
        "TemplateVariantStatusEnum": "outreach.models.content.VariantStatus",
        "CampaignStepChannelEnum": "outreach.models.campaigns.STEP_CHANNEL_CHOICES",
    }
)
# A dispatcher's claim on outbox rows; must exceed any provider call timeout.
OUTREACH_LEASE_SECONDS = env_int("OUTREACH_LEASE_SECONDS", 60)
# Dispatcher sessions with synchronous_commit=off (PostgreSQL): no fsync wait for the one commit
# per message; a database crash may forget the last few hundred ms of commits (resolved by
# provider lookup where the provider has one).
OUTREACH_DISPATCH_ASYNC_COMMIT = env_bool("OUTREACH_DISPATCH_ASYNC_COMMIT", default=False)
# The dispatcher's per-message statement is a server-side prepared statement (parsed and planned
# once per connection, not per message). Django turns prepared statements off for connection
# poolers; set 0 behind a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode).
OUTREACH_DISPATCH_PREPARE = env_bool("OUTREACH_DISPATCH_PREPARE", default=True)

# --- foundation ---
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "ConsentStatusEnum": "madansara.contacts.models.ConsentStatus",
        "LifecycleStageEnum": "madansara.contacts.models.LifecycleStage",
        "UpsertStatusEnum": "madansara.contacts.services.UpsertStatus",
    }
)
# Workers and beat log through LOGGING above (JSON lines with the request id), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- inbox ---
ANTHROPIC_TIMEOUT_SECONDS = float(os.environ.get("ANTHROPIC_TIMEOUT_SECONDS", "30"))
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "ConversationStatusEnum": "inbox.models.ConversationStatus",
        "DraftStatusEnum": "inbox.models.DraftStatus",
    }
)

# --- website ingest ---
# > 0: publish events_ingested for many stored tracker batches at once, at most this many
# seconds after they are stored (one broker publish per batch costs more than the COPY).
WEBSITE_SIGNAL_BUFFER_SECONDS = float(os.environ.get("WEBSITE_SIGNAL_BUFFER_SECONDS", "0"))
# Tracker ingest on PostgreSQL: concurrent requests of a web process share one COPY and one
# durable commit (website.ingest.writer); each request is answered once its rows are committed.
WEBSITE_INGEST_GROUP_COMMIT = env_bool("WEBSITE_INGEST_GROUP_COMMIT", default=True)
# Funnels on PostgreSQL split the people over this many connections reading one snapshot
# (1: a single connection; the split is also off inside an open transaction).
WEBSITE_FUNNEL_CONNECTIONS = env_int("WEBSITE_FUNNEL_CONNECTIONS", 2)
WEBSITE_FUNNEL_WORK_MEM = os.environ.get("WEBSITE_FUNNEL_WORK_MEM", "256MB")  # PostgreSQL work_mem of a funnel query
# Where the tracker spools batches it could not write (replayed later).
WEBSITE_SPOOL_DIR = Path(os.environ.get("WEBSITE_SPOOL_DIR") or VAR_DIR / "website-spool")

# --- operations: metrics, error tracking, notifications ---
# Bearer token of /metrics (web) and of the worker's metrics port; unset: /metrics answers 404.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# The Celery worker serves its own counters on this port (0: off). Web processes share
# counters through PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself, see README).
METRICS_PORT = env_int("METRICS_PORT", 0)
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0"))
if SENTRY_DSN:
    from madansara.sentry import sentry_init

    sentry_init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
# Human notifications (madansara.notifications): a Slack-compatible incoming webhook for every
# notice, e-mail to the people concerned, the admin list. Duplicates within a window are dropped.
NOTIFY_SLACK_WEBHOOK_URL = os.environ.get("NOTIFY_SLACK_WEBHOOK_URL", "")
NOTIFY_ADMIN_EMAILS = env_list("NOTIFY_ADMIN_EMAILS")
NOTIFY_PROVIDER_FAILURE_RATE = float(os.environ.get("NOTIFY_PROVIDER_FAILURE_RATE", "0.5"))
NOTIFY_PROVIDER_MIN_ATTEMPTS = env_int("NOTIFY_PROVIDER_MIN_ATTEMPTS", 10)
NOTIFY_DIGEST_HOUR = env_int("NOTIFY_DIGEST_HOUR", 8)

# --- best practices ---
# The test scheduler proposes at most this many tests a week (bestpractices.services.tests_schedule).
BESTPRACTICES_WEEKLY_TESTS = env_int("BESTPRACTICES_WEEKLY_TESTS", 2)
# On: the scheduler starts the tests it proposes; off: they wait for a marketer's approval.
BESTPRACTICES_AUTOSTART = env_bool("BESTPRACTICES_AUTOSTART", default=False)
