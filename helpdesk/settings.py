"""Settings, read from environment variables in this module only.

With no variable set this is the embedded setup: SQLite, Channels' in-memory layer, Celery
tasks run in-process, local-memory cache. DATABASE_URL and REDIS_URL switch to PostgreSQL and
Redis (Celery broker, channel layer, cache) for production.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the {name} environment variable.")
    return value


def env_bool(name: str, default: bool) -> bool:
    return env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)  # development mode; production sets false
SECRET_KEY = env("SECRET_KEY", "dev-insecure-secret-key-change-me" if DEBUG else None)  # Django's signing secret: required with DEBUG off
# Key material for credentials encrypted at rest (comma-separated; the first encrypts, all
# decrypt, so keys can be rotated). Development derives one from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", "" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else None)  # host names served, comma-separated: required with DEBUG off
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")  # origins forms are posted from, e.g. https://help.example.com
# Absolute base URL the platforms reach this deployment at; used to print webhook URLs.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "channels",
    "helpdesk",
    "integrations",
    "inbox",
    "routing",
    "sla",
    "assist",
]

MIDDLEWARE = [
    "helpdesk.logcontext.RequestIdMiddleware",
    "helpdesk.metrics.WebhookMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "helpdesk.errors.DomainErrorMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
SQLITE_PATH = env("SQLITE_PATH", str(BASE_DIR / "var" / "helpdesk.sqlite3"))  # the embedded default's database file
DATABASE_URL = env("DATABASE_URL", "")  # postgres://USER:PASSWORD@HOST:5432/NAME; empty: SQLite
if DATABASE_URL:
    # Under ASGI every request may run on its own thread, so persistent per-thread
    # connections would pile up; a per-process pool (psycopg_pool) bounds them instead.
    # Django's backend, with the real cause when the pool cannot connect (helpdesk/db/).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, engine="helpdesk.db.postgresql")}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(env("DATABASE_POOL_MIN_SIZE", "2")),  # connections each process keeps open
        "max_size": int(env("DATABASE_POOL_MAX_SIZE", "10")),  # most connections one process opens (README: pool sizing)
        "timeout": 10,
    }
    # Behind PgBouncer in transaction pooling mode a server session serves many clients, so
    # nothing may outlive a transaction in one: no server-side cursors (QuerySet.iterator()).
    # Django binds parameters client-side, so there are no prepared statements to lose.
    if env_bool("DATABASE_PGBOUNCER", False):  # PostgreSQL is reached through PgBouncer in transaction mode
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # Concurrent webhooks: WAL lets readers run beside the one writer, IMMEDIATE
                # takes the write lock when a transaction starts (so no deadlocking upgrade
                # from a read lock), and the busy timeout makes writers queue instead of
                # failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
            },
            "TEST": {"NAME": env("SQLITE_TEST_PATH", "") or None},  # the tests' SQLite file; empty: in memory
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery --------------------------------------------------
REDIS_URL = env("REDIS_URL", "")  # empty: in-memory channel layer, eager Celery, local cache
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # channels-redis receives with a blocking BZPOPMIN of up to 5 s (RedisChannelLayer's
    # brpop_timeout), and redis-py's default socket timeout is also 5 s: an idle socket's read
    # raced its own timeout and the consumer died with TimeoutError every 5-10 s. The read
    # timeout must outlast the blocking call; it still ends a read from a dead server.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 5, "socket_keepalive": True}
                ]
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://localhost/"  # never used for publishing: tasks run eagerly
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
# Without a broker, tasks run in one background thread of the web process (helpdesk/celery.py),
# never inside the request that enqueued them; off, they run inline in it (tests do that).
EMBEDDED_TASK_THREAD = env_bool("EMBEDDED_TASK_THREAD", True)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A webhook must answer even when the broker is down: fail fast, the sweeper re-enqueues.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_PUBLISH_RETRY = False
# Queues that cannot starve each other: each kind of work has its own, served by its own
# workers (README "Production"), so an ingest backlog never delays an SLA scan or a sweep, and
# a reply waiting out a platform's rate limit holds only the reply workers.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "integrations.webhook_events_process": {"queue": "ingest"},
    "inbox.reply_send": {"queue": "replies"},
    # Calls to the platforms' APIs that read (polls, listings), and may wait on their limits.
    "integrations.bluesky_channel_poll": {"queue": "polls"},
    "integrations.channels_sync": {"queue": "polls"},
    # The periodic sweepers, and the poll fan-out that only enqueues.
    "integrations.webhook_events_sweep": {"queue": "sweeps"},
    "integrations.bluesky_channels_poll": {"queue": "sweeps"},
    "inbox.replies_sweep": {"queue": "sweeps"},
    "routing.queues_sweep": {"queue": "sweeps"},
    "sla.escalations_sweep": {"queue": "sweeps"},
    "routing.*": {"queue": "routing"},
    "sla.*": {"queue": "sla"},
}
# Beat's record of when each job last ran: under var/, never in the working tree's root.
CELERY_BEAT_SCHEDULE_FILENAME = env("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule"))
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-webhook-events": {
        "task": "integrations.webhook_events_sweep",
        "schedule": timedelta(seconds=30),
    },
    "poll-bluesky-channels": {
        "task": "integrations.bluesky_channels_poll",
        "schedule": timedelta(seconds=20),
    },
    # Hands back offline agents' conversations and drains every team queue.
    "sweep-routing-queues": {
        "task": "routing.queues_sweep",
        "schedule": timedelta(seconds=15),
    },
    "scan-sla-clocks": {
        "task": "sla.clocks_scan",
        "schedule": timedelta(seconds=30),
        # A scan still queued when the next one is due is dropped: the next one does its work.
        "options": {"expires": 30},
    },
    "sweep-sla-escalations": {
        "task": "sla.escalations_sweep",
        "schedule": timedelta(seconds=60),
    },
    # Resolved conversations whose learning task was lost become suggestions all the same.
    "sweep-assist-learning": {
        "task": "assist.learn_sweep",
        "schedule": timedelta(minutes=5),
        "options": {"expires": 300},
    },
}
# A breach not escalated this long after the scan recorded it lost its task: the sweep runs it.
SLA_ESCALATION_SWEEP_AFTER = timedelta(seconds=int(env("SLA_ESCALATION_SWEEP_AFTER_SECONDS", "120")))
# Due SLA clocks flagged per transaction by the scan, which repeats batches until done.
SLA_SCAN_BATCH_SIZE = int(env("SLA_SCAN_BATCH_SIZE", "500"))
# Dotted path of `hook(*, conversation_id: int, team_id: int) -> None` that hands a conversation
# to a routing team when an SLA escalation asks for it (sla/teams.py); empty: that action is skipped.
SLA_TEAM_REASSIGN_HOOK = env("SLA_TEAM_REASSIGN_HOOK", "routing.services.manual.conversation_escalate")
# An agent whose console sent no heartbeat for this long is offline.
ROUTING_PRESENCE_TIMEOUT = timedelta(seconds=int(env("ROUTING_PRESENCE_TIMEOUT_SECONDS", "90")))
# Longest a process routes on its snapshot of rules and teams without looking again; changes
# saved through models reach every process sharing the cache at once (routing/config.py).
ROUTING_CONFIG_MAX_AGE = int(env("ROUTING_CONFIG_MAX_AGE_SECONDS", "30"))

# --- Product behaviour --------------------------------------------------------------------
# Install the sandbox app: fake platform endpoints under /sandbox/ (the Bluesky PDS that
# sandbox channels poll, the APIs their replies go to), the simulator and `manage.py simulate`.
# On by default only with DEBUG (the demo, the tests), so a production deployment neither
# installs nor routes to it.
SANDBOX_PLATFORMS_ENABLED = env_bool("SANDBOX_PLATFORMS_ENABLED", DEBUG)
if SANDBOX_PLATFORMS_ENABLED:
    INSTALLED_APPS.append("sandbox")
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = WEBHOOK_MAX_BODY_BYTES
# A pending event handed to the broker (or taken by a worker) this long ago is assumed lost and
# enqueued again, once nothing waits in the ingest queue.
WEBHOOK_SWEEP_AFTER = timedelta(seconds=int(env("WEBHOOK_SWEEP_AFTER_SECONDS", "60")))
WEBHOOK_MAX_ATTEMPTS = int(env("WEBHOOK_MAX_ATTEMPTS", "8"))  # processing attempts before an event stays failed
# A resolved conversation reopens when the customer writes within this window; later, a new
# conversation linked to the old one starts.
CONVERSATION_REOPEN_WINDOW = timedelta(days=int(env("CONVERSATION_REOPEN_WINDOW_DAYS", "7")))

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": "Social customer-service inbox: conversations and messages from six platforms.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Two apps have a `status` field; name the conversation's enum so the schema stays stable.
    "ENUM_NAME_OVERRIDES": {"ConversationStatusEnum": "inbox.models.Conversation.Status"},
}

# --- Static, i18n, auth, security ---------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves static files from the apps and static/ directly (WhiteNoise finders);
# production serves what `collectstatic` gathered here.
STATIC_ROOT = None if DEBUG else env("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "helpdesk.storage.LenientManifestStaticFilesStorage"
    },
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
LOGIN_URL = "admin:login"
# Cookies go over HTTPS only when the deployment is served over HTTPS (PUBLIC_BASE_URL); a
# plain-HTTP local install (no TLS) would otherwise refuse every login with a CSRF error.
SECURE_COOKIES = env_bool("SECURE_COOKIES", PUBLIC_BASE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
# The reverse proxy that terminates TLS says so in X-Forwarded-Proto; only trust it behind one
# that sets (never forwards) the header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", not DEBUG) else None

# LOG_FORMAT=json: one JSON object per line, for a log pipeline; each carries the request,
# webhook event, conversation and message ids where they apply (helpdesk/logcontext.py).
LOG_FORMAT = env("LOG_FORMAT", "plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "helpdesk.logcontext.LogContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(event_id)s "
            "%(conversation_id)s %(message_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},  # the root logger's level
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task is useful from a worker, noise when tasks run inside the web process.
        "celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"},
    },
}

# Retention, applied daily by beat (helpdesk.retention_apply) and by `manage.py purge_data`:
# processed or failed raw deliveries, and the text of messages in conversations no longer active.
RETENTION_WEBHOOK_EVENT_DAYS = int(env("RETENTION_WEBHOOK_EVENT_DAYS", "30"))  # raw deliveries kept this many days (0: for ever)
RETENTION_MESSAGE_BODY_DAYS = int(env("RETENTION_MESSAGE_BODY_DAYS", "0"))  # message text kept this many days (0: for ever)
CELERY_BEAT_SCHEDULE["apply-retention"] = {"task": "helpdesk.retention_apply", "schedule": timedelta(days=1)}

# Bearer token a Prometheus scraper presents at /metrics; signed-in staff may read it too.
METRICS_TOKEN = env("METRICS_TOKEN", "")

# --- Replies out and platform API clients (integrations/http.py, ratelimit.py, sync.py) -----
# Per-account call budgets, shared by every worker through the cache: platform -> (calls,
# window seconds). Facebook and Instagram: 200 calls per hour per user; X: 200 DM sends per
# 15 minutes per user; LinkedIn: daily member quotas; Bluesky: 3000 per 5 minutes
# (RateLimit-Policy); Telegram: about 30 messages per second per bot.
PLATFORM_RATE_BUDGETS = {
    "facebook": (200, 3600),
    "instagram": (200, 3600),
    "x": (200, 900),
    "linkedin": (500, 86400),
    "bluesky": (3000, 300),
    "telegram": (30, 1),
}
# Multiplies every budget window (and the sandbox platform's limit window): the outbound
# benchmark compresses an hour into seconds with it.
PLATFORM_RATE_WINDOW_SCALE = float(env("PLATFORM_RATE_WINDOW_SCALE", "1"))
PLATFORM_BUDGET_CACHE = "default"
PLATFORM_BUDGET_KEY_PREFIX = env("PLATFORM_BUDGET_KEY_PREFIX", "platform-budget")  # cache key prefix of the call budgets
PLATFORM_HTTP_TIMEOUT = (5.0, 20.0)  # connect, read (seconds)
PLATFORM_HTTP_MAX_ATTEMPTS = int(env("PLATFORM_HTTP_MAX_ATTEMPTS", "4"))  # attempts of one platform call
# A longer wait is not slept in the worker: the task retries with that countdown instead.
PLATFORM_HTTP_MAX_INLINE_WAIT = float(env("PLATFORM_HTTP_MAX_INLINE_WAIT_SECONDS", "10"))
PLATFORM_HTTP_BACKOFF_BASE = 1.0
PLATFORM_HTTP_BACKOFF_MAX = 30.0
PLATFORM_HTTP_RESET_JITTER = 0.5  # seconds added at random to a wait the platform named
# A pending reply no task started on after this long (the broker was down) is enqueued again.
REPLY_SWEEP_AFTER = timedelta(seconds=int(env("REPLY_SWEEP_AFTER_SECONDS", "60")))
# Multi-account sync: each account's listing must answer within this many seconds.
SYNC_ACCOUNT_TIMEOUT_SECONDS = float(env("SYNC_ACCOUNT_TIMEOUT_SECONDS", "10"))
# The sandbox platform's own per-account limit (calls per window, scaled as above), its
# receipts' delays after a reply is accepted, and the 429 it answers over that limit.
SANDBOX_RATE_LIMITS = PLATFORM_RATE_BUDGETS
SANDBOX_RECEIPT_DELAYS = (1.0, 3.0)  # seconds to the delivery receipt, then to the read receipt
CELERY_BEAT_SCHEDULE["sweep-pending-replies"] = {
    "task": "inbox.replies_sweep",
    "schedule": timedelta(seconds=60),
}
CELERY_BEAT_SCHEDULE["sync-channels"] = {
    "task": "integrations.channels_sync",
    "schedule": timedelta(minutes=15),
}

# --- Agent console (issue 7) --------------------------------------------------------------
# The console has its own sign-in page; the admin keeps its own.
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:inbox"
LOGOUT_REDIRECT_URL = "console:login"
# A Content-Security-Policy that forbids inline scripts on every page (helpdesk/csp.py).
MIDDLEWARE = [*MIDDLEWARE, "helpdesk.csp.ContentSecurityPolicyMiddleware"]
# Development serves static files straight from static/ and the apps, decided by DEBUG as set
# at start-up: the test runner turns DEBUG off later, and the console's browser tests need its
# scripts and styles. Production (DEBUG off from the start) serves what collectstatic gathered.
WHITENOISE_USE_FINDERS = DEBUG
