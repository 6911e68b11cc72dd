"""Settings, read from the environment by django-environ.

Every setting has a safe embedded default (SQLite file + embedded Redis + the sandbox gateway)
so a fresh checkout runs with no configuration. `ERP_ENV=production` turns the defaults off:
a missing secret is then a startup error instead of a silent fallback.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from erp1688.deploy_checks import fernet_keys_problem, gateway_problem

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

ERP_ENV = env.str("ERP_ENV", "development")
PRODUCTION = ERP_ENV == "production"
DATA_DIR = Path(env.str("ERP_DATA_DIR", str(BASE_DIR / "data")))

REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "OPEN1688_APP_KEY",
    "OPEN1688_APP_SECRET",
    "FIELD_ENCRYPTION_KEY",
)
if PRODUCTION:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, "")]
    if missing:
        raise ImproperlyConfigured(
            "ERP_ENV=production needs these environment variables: " + ", ".join(missing)
        )

DEV_SECRET_KEY = "django-insecure-erp1688-development-only"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_rq",
    "import_export",
    "django_filters",
    "django_tables2",
    "catalog",
    "sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "erp1688.urls"
WSGI_APPLICATION = "erp1688.wsgi.application"
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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'erp1688.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # WAL + a busy timeout let the web server and the worker write to the same file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", "")
# Without REDIS_URL the embedded server of DATA_DIR is used. Reading settings does not start it:
# manage.py, the WSGI entry and the test fixtures do (erp1688/embedded_redis.py), so a process
# that never talks to Redis (the test runner's controller, `check`) starts nothing.
EMBEDDED_REDIS_DIR = None if REDIS_URL else DATA_DIR
if not REDIS_URL:
    from erp1688.embedded_redis import embedded_redis_url

    REDIS_URL = embedded_redis_url(DATA_DIR)

RQ_DEFAULT_TIMEOUT = env.int("RQ_DEFAULT_TIMEOUT", 1800)
RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": RQ_DEFAULT_TIMEOUT}
    for name in ("default", "sync", "upload")
}
RQ_SHOW_ADMIN_LINK = True
RQ = {"WORKER_CLASS": "sync.worker_class.Worker"}
# The RQ stats API (/admin/rq/stats.json) for a monitoring probe without a session: open to this
# bearer token only when one is set (erp1688/rq_gate.py); every other RQ page is superusers' only.
RQ_API_TOKEN = env.str("RQ_API_TOKEN", "")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes): AxesStandaloneBackend refuses a locked-out username+IP pair
# before ModelBackend checks the password; force_login (tests) passes no backend check at all.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "erp1688.security.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# The client address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT reverse proxies in front the
# address they appended to X-Forwarded-For (a client-sent header must not pick the address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "erp1688.security.client_ip"

LOGIN_URL = "login"  # the staff login page (erp1688/staff_access.py); the admin keeps its own
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Alert emails (catalog/alerts/emails.py): EMAIL_URL, e.g. smtp+tls://user:pass@smtp.example.com:587;
# by default they are printed by the process that raised them. SITE_URL makes their links.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "erp1688@localhost")
SITE_URL = env.str("SITE_URL", "http://127.0.0.1:8000")

LANGUAGE_CODE = env.str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the app folders (no collectstatic step).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    # Pictures staff upload for an item until the publish job puts them into the photobank
    # (catalog/publishing/staged_pictures.py). Workers on another machine need a storage they
    # share: STAGED_PICTURES_STORAGE names its backend, STAGED_PICTURES_OPTIONS (JSON) its options.
    "staged_pictures": {
        "BACKEND": env.str(
            "STAGED_PICTURES_STORAGE", "django.core.files.storage.FileSystemStorage"
        ),
        "OPTIONS": env.json("STAGED_PICTURES_OPTIONS", default={})
        or {"location": str(DATA_DIR / "pictures")},
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
# Uploads keep at most UPLOAD_MAX_BYTES (the largest file any form takes: the sourcing picture,
# 10 MB), dropping the rest as it arrives; never a named temporary file.
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["catalog.publishing.import_reading.BoundedUploadHandler"]


def _dev_field_key(secret: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(("fields:" + secret).encode()).digest()).decode()


# Comma-separated Fernet keys; the first encrypts, all decrypt (MultiFernet), so keys rotate.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[_dev_field_key(SECRET_KEY)])

# 1688 Open Platform. The defaults point at the local sandbox gateway (python -m sandbox serve).
OPEN1688_GATEWAY = env.str("OPEN1688_GATEWAY", "http://127.0.0.1:8688")
OPEN1688_AUTHORIZE_URL = env.str(
    "OPEN1688_AUTHORIZE_URL",
    OPEN1688_GATEWAY + "/oauth/authorize"
    if not PRODUCTION
    else "https://auth.1688.com/oauth/authorize",
)
OPEN1688_APP_KEY = env.str("OPEN1688_APP_KEY", "8688001")
OPEN1688_APP_SECRET = env.str("OPEN1688_APP_SECRET", "sandbox-secret")
OPEN1688_RATE_PER_SECOND = env.float("OPEN1688_RATE_PER_SECOND", 5.0)
# Per-API limits, e.g. OPEN1688_API_RATES=alibaba.product.add=2,alibaba.product.get=5
OPEN1688_API_RATES = {k: float(v) for k, v in env.dict("OPEN1688_API_RATES", default={}).items()}
OPEN1688_CONNECT_TIMEOUT = env.float("OPEN1688_CONNECT_TIMEOUT", 3.05)
OPEN1688_READ_TIMEOUT = env.float("OPEN1688_READ_TIMEOUT", 20.0)
OPEN1688_MAX_RETRIES = env.int("OPEN1688_MAX_RETRIES", 3)
# Retries wait a random time up to BASE x 2^(attempt-1) seconds, never more than MAX.
OPEN1688_BACKOFF_BASE = env.float("OPEN1688_BACKOFF_BASE", 0.5)
OPEN1688_BACKOFF_MAX = env.float("OPEN1688_BACKOFF_MAX", 8.0)
# A read answered "500_2" (data being prepared) is asked again after a random wait in this range.
OPEN1688_RETRY_LATER_DELAY = (1.0, 3.0)
# Watching suppliers (catalog/watch/services.py): the buyer-side detail is cached this long in Redis
# (the
# scheduled poll reads through it), and each watched offer is polled at least this often.
WATCH_CACHE_SECONDS = env.int("WATCH_CACHE_SECONDS", 300)
WATCH_POLL_MINUTES = env.float("WATCH_POLL_MINUTES", 30)
# Following suppliers (catalog/follow/engine.py): supplier moves of one offer inside this window
# make one write with the latest value; nothing is applied on its own for a shop whose
# authorisation expires within FOLLOW_TOKEN_MARGIN_HOURS.
FOLLOW_COALESCE_SECONDS = env.float("FOLLOW_COALESCE_SECONDS", 10)
FOLLOW_TOKEN_MARGIN_HOURS = env.float("FOLLOW_TOKEN_MARGIN_HOURS", 24)
# 1688 message push over WebSocket (`manage.py watch_push`); the sandbox serves it on 8689.
OPEN1688_PUSH_WS_URL = env.str(
    "OPEN1688_PUSH_WS_URL",
    "ws://message.1688.com/websocket" if PRODUCTION else "ws://127.0.0.1:8689/websocket",
)
# Push de-duplication (catalog/watch/push.py): a msgId is remembered this many days, and a message
# born
# earlier is refused. Past this many forged posts (bad signature) from one address in a minute,
# the HTTP endpoint answers 429 without reading the body.
PUSH_MEMORY_DAYS = env.int("PUSH_MEMORY_DAYS", 7)
PUSH_FORGED_PER_MINUTE = env.int("PUSH_FORGED_PER_MINUTE", 20)

SYNC_INTERVAL_MINUTES = env.int("SYNC_INTERVAL_MINUTES", 30)
SYNC_OVERLAP_SECONDS = env.int("SYNC_OVERLAP_SECONDS", 300)
SYNC_JOB_TIMEOUT = env.int("SYNC_JOB_TIMEOUT", 3600)
# Finished sync runs are kept this many days, then folded into day summaries (sync/retention.py);
# 0 keeps every run.
SYNC_RUN_RETENTION_DAYS = env.int("SYNC_RUN_RETENTION_DAYS", 90)
# Per-shop sync and per-batch upload locks: renewed every third of this while their holder works,
# so a killed worker's lock ends within this many seconds (sync/locks.py).
LOCK_TTL_SECONDS = env.float("LOCK_TTL_SECONDS", 60)
UPLOAD_CHUNK_SIZE = env.int("UPLOAD_CHUNK_SIZE", 50)
UPLOAD_JOB_TIMEOUT = env.int("UPLOAD_JOB_TIMEOUT", 3600)
# A quota-limited upload waits this long, then its job runs again (needs rqworker --with-scheduler).
UPLOAD_QUOTA_DELAY_SECONDS = env.int("UPLOAD_QUOTA_DELAY_SECONDS", 60)
# A write that timed out (ours or gw.ISPInvokeTimeout) may still be applied by 1688 after the
# answer was given up: live edits wait this long before they read 1688 to decide whether it
# took (catalog/shops/clients.py, wait_for_late_apply); the upload has its looks (below).
OPEN1688_LATE_APPLY_GRACE_SECONDS = env.float("OPEN1688_LATE_APPLY_GRACE_SECONDS", 30.0)
# A live-edit line sent without a confirmed outcome is read again after that grace by the
# minute job until it shows on 1688 ("applied late") or this long has passed
# (catalog/live_edits/settle.py).
LIVE_EDIT_CONFIRM_SECONDS = env.float("LIVE_EDIT_CONFIRM_SECONDS", 600.0)
# Publishing (catalog/publishing/upload/run.py): an add without a known outcome is looked for on
# 1688 this
# long after it was sent, UPLOAD_RECONCILE_LOOKS times a grace apart, before it is sent again;
# a look due within UPLOAD_INLINE_WAIT_SECONDS is waited for in the run, a later one re-queues
# the job. Offers in audit are read again after UPLOAD_AUDIT_CHECK_SECONDS (doubling).
UPLOAD_UNKNOWN_GRACE_SECONDS = env.float("UPLOAD_UNKNOWN_GRACE_SECONDS", 120.0)
UPLOAD_RECONCILE_LOOKS = env.int("UPLOAD_RECONCILE_LOOKS", 3)
UPLOAD_INLINE_WAIT_SECONDS = env.float("UPLOAD_INLINE_WAIT_SECONDS", 10.0)
UPLOAD_AUDIT_CHECK_SECONDS = env.int("UPLOAD_AUDIT_CHECK_SECONDS", 60)
# The title limit as 1688 counts it (a Chinese character counts 2).
PUBLISH_TITLE_MAX_WEIGHT = env.int("PUBLISH_TITLE_MAX_WEIGHT", 60)
# Offer images come as relative paths served under this host: 1688's image CDN, or the
# sandbox gateway itself (it serves /img/ pictures) when the gateway is not 1688's.
OPEN1688_IMAGE_BASE = env.str(
    "OPEN1688_IMAGE_BASE",
    "https://cbu01.alicdn.com/"
    if "open.1688.com" in OPEN1688_GATEWAY
    else OPEN1688_GATEWAY.rstrip("/") + "/",
)
# Server-side downloads (erp1688/guarded_fetch.py) reach public addresses only; these host[:port]
# entries are the exceptions. "OPEN1688_IMAGE_BASE" stands for that setting's host, read when
# fetching: the sandbox's pictures on 127.0.0.1 in development and tests. Production: none.
FETCH_ALLOWED_HOSTS = env.list(
    "FETCH_ALLOWED_HOSTS", default=[] if PRODUCTION else ["OPEN1688_IMAGE_BASE"]
)
FETCH_DEADLINE_SECONDS = env.float("FETCH_DEADLINE_SECONDS", 30.0)  # the whole download
FETCH_MAX_BYTES = env.int("FETCH_MAX_BYTES", 10 * 1024 * 1024)
# Pictures (erp1688/pictures.py): refused above this many pixels, before they are decoded.
PICTURE_MAX_PIXELS = env.int("PICTURE_MAX_PIXELS", 40_000_000)

# Error reports (DEBUG 500 page, admin e-mails) hide the client's frames and every known secret.
DEFAULT_EXCEPTION_REPORTER_FILTER = "erp1688.security.SecretHidingFilter"
DEFAULT_EXCEPTION_REPORTER = "erp1688.security.SecretRedactingReporter"

# Cookies and headers (secure cookies and HSTS in production below). No script reads the CSRF
# cookie: forms carry {% csrf_token %} and htmx only polls with GET.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be a unique value of at least 50 characters")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    for name, url in (
        ("OPEN1688_GATEWAY", OPEN1688_GATEWAY),
        ("OPEN1688_AUTHORIZE_URL", OPEN1688_AUTHORIZE_URL),
    ):
        problem = gateway_problem(url)
        if problem:
            raise ImproperlyConfigured(f"{name} {problem} (ERP_ENV=production): {url!r}")
    problem = fernet_keys_problem(FIELD_ENCRYPTION_KEYS)
    if problem:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEY: {problem}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes.apps": {"level": "WARNING"},  # a version banner at every start-up
    },
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file (not :memory:) so worker subprocesses in the tests see the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-erp1688.sqlite3")}
