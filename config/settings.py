"""Settings for the whole project, read from the environment.

With no environment at all the app runs on a local SQLite file, prints e-mail to the console and
runs its Celery tasks through an embedded file-system broker, so ``make run`` needs no server.
``DJANGO_ENV=production`` switches on the production hardening and requires a real SECRET_KEY.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_duration(name: str, default: str) -> timedelta:
    """Read a duration such as "7d", "36h", "90m" or "45s" from the environment."""
    value = (os.environ.get(name) or default).strip().lower()
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    if len(value) < 2 or value[-1] not in units:
        raise ImproperlyConfigured(f"{name}={value!r}: use a number and d, h, m or s, e.g. 7d.")
    return timedelta(**{units[value[-1]]: float(value[:-1])})


DJANGO_ENV = os.environ.get("DJANGO_ENV") or "local"
PRODUCTION = DJANGO_ENV == "production"

_DEV_SECRET_KEY = "django-insecure-local-development-key-not-for-production-use"
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
if PRODUCTION and not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production.")

DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "accounts",
    "contracts",
    "disputes",
    "offers",
    "mediation",
    "arbitration",
    "webhooks",
]

MIDDLEWARE = [
    # GET /healthz answers before the host check and the HTTPS redirect: load balancers probe
    # by address, over HTTP.
    "core.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    # Before anything reads the body: too large a request is refused from its Content-Length.
    "core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.inbox",
                "core.context_processors.live",
            ],
        },
    },
]

# Production keeps each process's connection for DB_CONN_MAX_AGE seconds (10 minutes) instead
# of opening one per request, and checks a kept one before the request that reuses it, so a
# restarted database costs an error nowhere. Locally every request opens its own (0).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "600" if PRODUCTION else "0")),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web and the Celery worker both write: wait for the write lock instead of failing with
    # "database is locked". WAL lets readers go on beside the one writer; IMMEDIATE takes the
    # write lock when a transaction begins, since one that read first and then wants to write
    # beside another writer fails at once, whatever the busy timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,  # seconds; sqlite3 sets it as PRAGMA busy_timeout
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
# A few queries built from every app's declarations cost PostgreSQL more to plan than to run;
# they are prepared once per connection (core.db). Off behind a pooler in transaction mode.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "contracts:history"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# What each staff role (a group of that name) may do in the admin, granted after every migrate.
# "app.view_*" stands for the view permission of every model of the app.
ROLE_PERMISSIONS = {
    "Mediation agents": ["contracts.view_*", "disputes.view_*", "mediation.view_*"],
    "Arbitrators": [
        "contracts.view_*",
        "disputes.view_*",
        "mediation.view_*",
        "arbitration.view_*",
        "accounts.view_user",
    ],
    # Support handles support cases (and their files); disputes are the agents' and
    # arbitrators'. Suspending an account is the support staff's and the arbitrators'.
    "Support": [
        "contracts.view_*",
        "disputes.view_supportcase",
        "disputes.view_evidence",
        "accounts.view_user",
        # Login lockouts: reading the attempts and logs, and lifting a lockout.
        "axes.view_*",
        "axes.delete_accessattempt",
        # Reusable texts for the case pages (``disputes.Macro``).
        "disputes.view_macro",
        "disputes.add_macro",
        "disputes.change_macro",
        "disputes.delete_macro",
    ],
    # The high-value tier: mediation agents who also take disputes at or above HIGH_VALUE_LIMIT.
    "Senior mediation agents": ["contracts.view_*", "disputes.view_*", "mediation.view_*"],
}

# --- Staff accounts: two-factor authentication and the audit log ---------------------------
# Staff (is_staff, superusers, holders of a staff role) confirm a code from an authenticator
# app (TOTP) before their session does anything; in production every staff session must, and
# staff API tokens are refused. Locally it is off until a staff member enrolls in the admin.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", PRODUCTION)
OTP_TOTP_ISSUER = "Milestone disputes"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # nobody reads another person's secret in the admin
INSTALLED_APPS += ["django_otp", "django_otp.plugins.otp_totp"]
_AFTER_AUTH = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_AFTER_AUTH:_AFTER_AUTH] = [
    "django_otp.middleware.OTPMiddleware",
    "accounts.two_factor.StaffTwoFactorMiddleware",
    "core.audit.AuditContextMiddleware",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded work and evidence live outside any folder a web server publishes; they are served
# only through views that check who is asking.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(10 * 1024 * 1024)))
UPLOAD_MAX_FILES = int(os.environ.get("UPLOAD_MAX_FILES", "20"))
# What a file may hold (core.uploads): a ZIP's entries and size once expanded, and how much of a
# PDF's compressed content is expanded to look for scripts (beyond that it is refused).
UPLOAD_ZIP_MAX_ENTRIES = int(os.environ.get("UPLOAD_ZIP_MAX_ENTRIES", "1000"))
UPLOAD_ZIP_MAX_EXPANDED_BYTES = int(
    os.environ.get("UPLOAD_ZIP_MAX_EXPANDED_BYTES", str(100 * 1024 * 1024))
)
UPLOAD_PDF_MAX_EXPANDED_BYTES = int(
    os.environ.get("UPLOAD_PDF_MAX_EXPANDED_BYTES", str(100 * 1024 * 1024))
)
# The files of one request together; a larger request is refused with 413 before it is read.
UPLOAD_MAX_REQUEST_BYTES = int(
    os.environ.get("UPLOAD_MAX_REQUEST_BYTES", str(10 * UPLOAD_MAX_BYTES))
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "disputes@localhost")
# Where links in e-mails point.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Currencies a contract may use, with their ISO 4217 minor units (decimal places).
CURRENCIES = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CAD": 2,
    "AUD": 2,
    "CHF": 2,
    "JPY": 0,
    "KWD": 3,
}

# Open pages that follow a deadline (See Dispute, See Request, Contract history) ask the server
# for their status and deadline card this often, in seconds.
LIVE_POLL_SECONDS = int(os.environ.get("LIVE_POLL_SECONDS", "15"))
# The longest a page kept under a user's stamp (``core.stamps``: the contract history and See
# Dispute, and the API's contract list and dispute) is shown before it is read again, though
# nothing of the user's changed: the bound on what a stamp does not follow (time passing, edits
# outside the action tables). 0 turns the keeping off.
STAMPED_CACHE_SECONDS = int(os.environ.get("STAMPED_CACHE_SECONDS", "60"))

# --- Deadlines (each a duration; stored on its row as an absolute UTC *_due_at) ------------
# The freelancer's time to accept a refund request or file a dispute.
REFUND_REQUEST_RESPONSE_PERIOD = env_duration("REFUND_REQUEST_RESPONSE_PERIOD", "7d")
# The client's time to accept or decline a filed dispute.
DISPUTE_CLIENT_RESPONSE_PERIOD = env_duration("DISPUTE_CLIENT_RESPONSE_PERIOD", "5d")
# Submitted work is released automatically after this unless the client acts.
AUTO_RELEASE_PERIOD = env_duration("AUTO_RELEASE_PERIOD", "14d")
# The agents' service level for proposing a resolution after a decline (shown, not enforced).
MEDIATION_SERVICE_LEVEL = env_duration("MEDIATION_SERVICE_LEVEL", "2d")
# The parties' time to accept or reject a mediation agent's proposed resolution.
RESOLUTION_RESPONSE_PERIOD = env_duration("RESOLUTION_RESPONSE_PERIOD", "2d")
# A party's settlement offer lapses when the other party has not answered it within this.
OFFER_RESPONSE_PERIOD = env_duration("OFFER_RESPONSE_PERIOD", "2d")
# The furthest ahead staff may set a deadline (an extension, an evidence request's due date).
DEADLINE_MAX_AHEAD = env_duration("DEADLINE_MAX_AHEAD", "60d")
# After a Notice of Non-Resolution: each party's time to agree to arbitration and pay its fee.
ARBITRATION_WINDOW_PERIOD = env_duration("ARBITRATION_WINDOW_PERIOD", "7d")
# Each party's arbitration fee: a fixed amount plus a percentage of the disputed escrow R, in
# the dispute's currency, rounded down to the currency's unit.
ARBITRATION_FEE_FIXED = os.environ.get("ARBITRATION_FEE_FIXED", "50.00")
ARBITRATION_FEE_PERCENT = os.environ.get("ARBITRATION_FEE_PERCENT", "0")
# Small claims: below this amount (in the dispute's currency) the agent's decision is binding.
SMALL_CLAIMS_ENABLED = env_bool("SMALL_CLAIMS_ENABLED", False)
SMALL_CLAIMS_LIMIT = os.environ.get("SMALL_CLAIMS_LIMIT", "100.00")
# The high-value tier: a dispute whose amount R is at or above its currency's limit goes only to
# the "Senior mediation agents". "USD:5000,EUR:5000"; a currency not listed has no tier.
HIGH_VALUE_LIMIT = {
    currency.strip().upper(): limit.strip()
    for currency, _, limit in (
        item.partition(":")
        for item in os.environ.get("HIGH_VALUE_LIMIT", "USD:5000,EUR:5000").split(",")
        if item.strip()
    )
}
# Cases entering mediation (and arbitration, once both fees are paid) go to the available
# staff member with the fewest open cases; off, they wait in the queue for "assign to me".
AUTO_ASSIGN_CASES = env_bool("AUTO_ASSIGN_CASES", True)
# How often the deadline sweep runs, and how many rows each of its transactions handles.
DEADLINE_SWEEP_INTERVAL = env_duration("DEADLINE_SWEEP_INTERVAL", "60s")
DEADLINE_SWEEP_BATCH_SIZE = int(os.environ.get("DEADLINE_SWEEP_BATCH_SIZE", "1000"))

# --- Celery --------------------------------------------------------------------------------
# Default: an embedded file-system broker, so a worker with beat runs with no server at all.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://localhost//"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# One queue per kind of work, so that none waits behind another: the deadline sweeps, e-mail
# and webhook deliveries. A worker started without -Q serves them all (see the Procfile).
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name) for name in ("deadlines", "email", "webhooks")
]
CELERY_TASK_DEFAULT_QUEUE = "deadlines"
CELERY_TASK_ROUTES = {
    "core.tasks.*": {"queue": "deadlines"},
    "accounts.tasks.*": {"queue": "email"},
    "webhooks.tasks.*": {"queue": "webhooks"},
}
# Deliveries acknowledge late (a lost worker's task is taken again): fetch one at a time.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "enforce-deadlines": {
        "task": "core.tasks.enforce_deadlines",
        "schedule": DEADLINE_SWEEP_INTERVAL.total_seconds(),
        # A run that waited longer than one interval is replaced by the next one.
        "options": {"expires": DEADLINE_SWEEP_INTERVAL.total_seconds()},
    },
    "relay-notification-emails": {
        "task": "accounts.tasks.relay_notification_emails",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
}
# Beat's schedule file; its folder is made when a worker with beat starts (config.celery_app).
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The e-mail outbox (core.outbox): an e-mail its task has not sent this long after the change is
# sent by the relay sweep; a claimed one is taken back after as long. Rows per batch; attempts
# before an e-mail that keeps failing (a refused address) is given up, with an error logged.
EMAIL_OUTBOX_GRACE = env_duration("EMAIL_OUTBOX_GRACE", "2m")
EMAIL_OUTBOX_BATCH_SIZE = int(os.environ.get("EMAIL_OUTBOX_BATCH_SIZE", "100"))
EMAIL_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("EMAIL_OUTBOX_MAX_ATTEMPTS", "5"))

# --- REST API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "not logged in" a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.two_factor.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Every body is checked for text no database stores; OPTIONS works on every view.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api_defaults.ContentNegotiation",
    "DEFAULT_METADATA_CLASS": "core.api_defaults.Metadata",
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api_defaults.AnonRateThrottle",
        "core.api_defaults.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Milestone disputes API",
    "DESCRIPTION": (
        "Fixed-price contracts, escrowed milestones and their disputes. Amounts are decimal "
        'strings; errors share one shape: {"error": {"code", "message", "fields"}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets are served from this app, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets shared by several components, or with names too generic to stay unique.
    "ENUM_NAME_OVERRIDES": {
        "ContractStatusEnum": "contracts.models.Contract.Status",
        "RefundRequestStatusEnum": "disputes.models.RefundRequest.Status",
        "DisputeStatusEnum": "disputes.models.Dispute.Status",
        "DisputeReasonEnum": "disputes.models.Dispute.Reason",
        "DisputeOutcomeEnum": "disputes.models.Dispute.Outcome",
        "SupportCaseStatusEnum": "disputes.models.SupportCase.Status",
        "TimelineEventKindEnum": "disputes.models.TimelineEvent.Kind",
        "PartyEnum": "core.serializers.DEADLINE_PARTIES",
        "ArbitrationPartyEnum": "arbitration.models.Party",
        "ResolutionAnswerEnum": "mediation.models.Resolution.Answer",
        "EvidenceRequestStatusEnum": "arbitration.serializers.EVIDENCE_REQUEST_STATUSES",
    },
}

IDEMPOTENCY_KEY_TTL = timedelta(hours=int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "48")))

# --- Webhooks ------------------------------------------------------------------------------
# Targets on loopback, private, link-local or reserved addresses are refused unless this is on
# (locally and in tests it is, for a receiver on 127.0.0.1); production takes https:// only.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", not PRODUCTION)
WEBHOOK_HTTPS_ONLY = env_bool("WEBHOOK_HTTPS_ONLY", PRODUCTION)
# How often the relay sends what is due and what a lost task or a broker outage left behind.
WEBHOOK_RELAY_INTERVAL = env_duration("WEBHOOK_RELAY_INTERVAL", "30s")
# Deliveries are an outbox kind (core.outbox): one its task has not sent this long after the
# change is sent by the relay's pass, and a claim lasts as long (more than a batch of attempts
# of 10 s each can take). Deliveries per batch.
WEBHOOK_OUTBOX_GRACE = env_duration("WEBHOOK_OUTBOX_GRACE", "2m")
WEBHOOK_OUTBOX_BATCH_SIZE = int(os.environ.get("WEBHOOK_OUTBOX_BATCH_SIZE", "10"))
CELERY_BEAT_SCHEDULE["relay-webhooks"] = {
    "task": "webhooks.tasks.relay",
    "schedule": WEBHOOK_RELAY_INTERVAL.total_seconds(),
    "options": {"queue": "webhooks", "expires": WEBHOOK_RELAY_INTERVAL.total_seconds()},
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "WebhookEndpointStatusEnum": "webhooks.models.WebhookEndpoint.Status",
        "EventTypeEnum": "webhooks.catalog.CHOICES",
    }
)

# --- Cache: one for every process ---------------------------------------------------------
# API rate limits count in the cache, so it must be shared by every web process: Redis when
# REDIS_URL (or CACHE_URL) names one, else a table of the database (made by every `migrate`, see
# core.apps). A per-process cache would let each worker grant the whole limit again.
_CACHE_VARIABLE = "REDIS_URL" if os.environ.get("REDIS_URL") else "CACHE_URL"
CACHE_URL = os.environ.get(_CACHE_VARIABLE) or ""
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"{_CACHE_VARIABLE}={CACHE_URL!r}: use a redis:// URL or unset it.")
CACHES = {
    "default": (
        {"BACKEND": "core.cache.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        # Expired rows are culled first; the cap only stops a flood of addresses from growing
        # the table without end.
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    )
}

# Sessions are read from that cache, and written through to the database behind it: a request
# costs no session query while the cache holds the session, and a flushed or restarted cache
# logs nobody out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "default"

# --- Login lockout (django-axes) ----------------------------------------------------------
# Failed logins on /login/, /admin/login/ and /api/v1/auth/token/ are counted per username (from
# any address: guessing one account's password) and per address (with any usernames: one
# password tried on many accounts). LOGIN_FAILURE_LIMIT failures lock either out, the right
# password included, until LOGIN_LOCKOUT_PERIOD after the last of them; tries during a lockout
# neither count nor extend it, so "try again after" holds. A successful login leaves the count
# (else logging in to an account of one's own would reset an address's). Staff (superusers,
# Support) lift a lockout by deleting its access attempts in the admin. See accounts/lockout.py.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes asks
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before any password check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = env_duration("LOGIN_LOCKOUT_PERIOD", "15m")
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
# The client's address for lockouts and the API's rate limits: REMOTE_ADDR, or behind this many
# reverse proxies the X-Forwarded-For entry the first of them added (the rest a client can
# forge). Production sits behind one proxy (see SECURE_PROXY_SSL_HEADER).
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "1" if PRODUCTION else "0"))
REST_FRAMEWORK["NUM_PROXIES"] = NUM_PROXIES

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Security headers ----------------------------------------------------------------------
# Every response: scripts, styles and images only from this site (an inline script needs the
# request's nonce, {{ csp_nonce }}), no plugins, no framing, forms posted only here.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Browser features no page here uses, switched off on every response (core.middleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

# --- Production hardening ------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
