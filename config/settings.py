"""Pixelsmith settings: one module, driven by environment variables.

Every variable read here is documented in README.md ("Configuration"). The embedded
default needs no service: SQLite, django-q2's ORM broker and local files, all under
DATA_DIR. Production points DATABASE_URL at PostgreSQL and REDIS_URL at Redis.
"""

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import __version__
from config.env import env_bool, env_choice, env_int, env_list, env_str
from tools.ai.download import DEFAULT_HOSTS as DOWNLOAD_HOSTS

BASE_DIR = Path(__file__).resolve().parent.parent
VERSION = __version__

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
TMP_DIR = DATA_DIR / "tmp"
# AI model files (MODELS_DIR/<model id>/<file>) and the wheels they were taken from.
MODELS_DIR = Path(env_str("MODELS_DIR", str(DATA_DIR / "models"))).resolve()
MODEL_WHEELS_DIR = Path(env_str("MODEL_WHEELS_DIR", str(MODELS_DIR / ".wheels"))).resolve()
# Loaded models per worker process: a memory budget (LRU beyond it), idle unload, and the
# models loaded (and kept) when a worker process starts.
MODEL_CACHE_MB = env_int("MODEL_CACHE_MB", 4096, minimum=64)
MODEL_IDLE_UNLOAD_S = env_int("MODEL_IDLE_UNLOAD_S", 600, minimum=10)
MODEL_PRELOAD = env_list("MODEL_PRELOAD", [])
# Model downloads (POST /api/v1/models/{id}/download): https from these hosts only
# ("*.x.org" allows subdomains), redirects included; a CA bundle for a TLS-intercepting proxy.
MODEL_DOWNLOAD_HOSTS = env_list("MODEL_DOWNLOAD_HOSTS", list(DOWNLOAD_HOSTS))
MODEL_DOWNLOAD_CA_FILE = env_str("MODEL_DOWNLOAD_CA_FILE", "") or None
# onnxruntime: try TensorRT before CUDA on GPU workers; fail (rather than run on the CPU)
# when a GPU step cannot get the GPU.
ORT_TENSORRT = env_bool("ORT_TENSORRT", False)
GPU_REQUIRED = env_bool("GPU_REQUIRED", False)
TMP_DIR.mkdir(exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in DATA_DIR."""
    from_env = env_str("SECRET_KEY", "")
    if from_env:
        return from_env
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
# A self-hosted server is reached by LAN IPs and names nobody knows in advance.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "apps.core",
    "apps.teams",
    "apps.accounts",
    "apps.apikeys",
    "apps.siteconfig",
    "apps.branding",
    "apps.jobs",
    "apps.library",
    "apps.models",
    "apps.pipelines",
    "apps.toolsapi",
    "apps.system",
    "apps.webhooks",
    "apps.compat",
    "apps.mcpserver",
    "apps.web",
]

MIDDLEWARE = [
    "apps.core.middleware.UploadLimitMiddleware",
    "apps.core.middleware.DatabaseBusyMiddleware",
    "apps.core.middleware.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.CommonMiddleware",
    "apps.core.middleware.SessionMiddleware",
    "apps.core.middleware.CsrfViewMiddleware",
    "apps.core.middleware.LocaleMiddleware",
    "apps.core.middleware.XFrameOptionsMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
]
# Security headers (SecurityMiddleware): nosniff and this Referrer-Policy on every
# response; HSTS on responses served over https (behind a proxy: its X-Forwarded-Proto,
# believed from TRUSTED_PROXIES only). HSTS_SECONDS=0 turns HSTS off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000, minimum=0)
X_FRAME_OPTIONS = "DENY"

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
                "apps.web.context.ui",
            ]
        },
    }
]

# --- Database ---------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
# PostgreSQL connections come from a pool in each process (web worker, django-q2 process):
# at most DB_POOL_MAX_SIZE each. A request that waits DB_POOL_TIMEOUT_S for one gets 503
# DATABASE_BUSY instead of opening yet another connection.
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 1, minimum=0)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10, minimum=1)
DB_POOL_TIMEOUT_S = env_int("DB_POOL_TIMEOUT_S", 10, minimum=1)
if DB_POOL_MAX_SIZE < DB_POOL_MIN_SIZE:
    raise ImproperlyConfigured(
        f"DB_POOL_MAX_SIZE ({DB_POOL_MAX_SIZE}) must be at least DB_POOL_MIN_SIZE"
        f" ({DB_POOL_MIN_SIZE})"
    )
# Shown in pg_stat_activity, so Pixelsmith's connections can be told from others.
DB_APPLICATION_NAME = "pixelsmith"
# An SQLite connection is opened once per request thread and reused (apps.core.asgi): opening
# one costs about a millisecond of CPU per request (bench/http_compare.py, issue 14).
SQLITE_CONN_MAX_AGE_S = 600


def url_database(url: str) -> dict[str, Any]:
    """DATABASES["default"] for DATABASE_URL; PostgreSQL gets a connection pool.

    PostgreSQL: no persistent connections (CONN_MAX_AGE=0, which psycopg's pool requires):
    Django returns the request's connection to the pool when the request finishes, and
    taking it again is cheap. Other engines (SQLite) keep their connection open for
    reuse: the ASGI handler (apps.core.asgi) runs requests on reused threads.
    """
    database: dict[str, Any] = {
        **dj_database_url.parse(url, conn_max_age=0, conn_health_checks=True)
    }
    if database["ENGINE"] != "django.db.backends.postgresql":
        return {**database, "CONN_MAX_AGE": SQLITE_CONN_MAX_AGE_S}
    options = database.setdefault("OPTIONS", {})
    options.setdefault("application_name", DB_APPLICATION_NAME)
    options["pool"] = {
        "min_size": DB_POOL_MIN_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT_S,  # then psycopg_pool.PoolTimeout: see apps.core.errors
    }
    return database


def _forget_inherited_pools() -> None:
    """After a fork (django-q2 forks its worker processes), the child would take idle
    connections from the parent's pool: sockets the parent goes on using. The child gets a
    pool of its own instead; the parent's objects are kept, unused, rather than garbage
    collected here."""
    postgresql = sys.modules.get("django.db.backends.postgresql.base")
    if postgresql is not None:
        pools = postgresql.DatabaseWrapper._connection_pools
        _INHERITED_POOLS.extend(pools.values())
        pools.clear()


_INHERITED_POOLS: list[Any] = []

if DATABASE_URL:
    DATABASES = {"default": url_database(DATABASE_URL)}
    os.register_at_fork(after_in_child=_forget_inherited_pools)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "pixelsmith.sqlite3"),
            "CONN_MAX_AGE": SQLITE_CONN_MAX_AGE_S,
            "CONN_HEALTH_CHECKS": True,
            # The web server and the worker write concurrently: WAL lets readers go on
            # while one writes, IMMEDIATE avoids lock-upgrade deadlocks, timeout waits.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits) and queue ------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # One web process (the embedded default) shares this among its threads.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

JOB_TIMEOUT_S = env_int("JOB_TIMEOUT_S", 1800, minimum=10)
JOB_RESULT_TTL_HOURS = env_int("JOB_RESULT_TTL_HOURS", 24, minimum=1)
# A processing job whose worker has not written a heartbeat for this long is lost.
JOB_HEARTBEAT_S = env_int("JOB_HEARTBEAT_S", 5, minimum=1)
JOB_STALE_S = env_int("JOB_STALE_S", 30, minimum=5)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 2, minimum=1)
CONCURRENT_JOBS = env_int("CONCURRENT_JOBS", 3, minimum=1)
# A synchronous request waits this long for its queued job, then answers 202 with the job's URLs.
# 90 s: under the 100 s after which common proxies (Cloudflare) cut a request.
SYNC_WAIT_S = env_int("SYNC_WAIT_S", 90, minimum=1)
# The compatibility APIs' synchronous calls (A1111 extras, Jellyfin upscale-frame, rembg)
# have no "still running" answer their clients understand, so they wait longer: then 504.
COMPAT_WAIT_S = env_int("COMPAT_WAIT_S", 600, minimum=1)
# A job's signedProgressUrl opens its SSE stream without a credential for this long.
PROGRESS_LINK_TTL_S = env_int("PROGRESS_LINK_TTL_S", 600, minimum=10)
MAX_BATCH_SIZE = env_int("MAX_BATCH_SIZE", 200, minimum=1)
MAX_PIPELINE_STEPS = env_int("MAX_PIPELINE_STEPS", 20, minimum=1)
# Send GPU tools to the `gpu` queue; only when a worker with Q_CLUSTER_NAME=gpu runs.
GPU_QUEUE = env_bool("GPU_QUEUE", False)
# The queue this worker serves (django-q2 reads the same variable): "gpu" for GPU workers,
# whose jobs then run on the GPU (apps.jobs.context.device_for).
Q_CLUSTER_NAME = env_str("Q_CLUSTER_NAME", "cpu")
WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 2, minimum=1)
Q_CLUSTER = {
    "name": "cpu",
    "workers": WORKER_CONCURRENCY,
    "timeout": JOB_TIMEOUT_S,
    # retry must exceed timeout, or a long job would be handed to a second worker.
    "retry": JOB_TIMEOUT_S + 60,
    # Delivery is at-most-once from our side: apps.jobs.execute claims a job with its
    # attempt number, and apps.jobs.maintenance requeues jobs whose worker died.
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": -1,  # Job rows are the record; don't keep django-q's copies of successes
    "label": "Jobs",
    # GPU work goes to its own queue: a worker started with Q_CLUSTER_NAME=gpu serves it.
    "ALT_CLUSTERS": {"gpu": {"workers": 1}},
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Auth ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTH_ENABLED = env_bool("AUTH_ENABLED", True)
DEFAULT_USERNAME = env_str("DEFAULT_USERNAME", "admin")
DEFAULT_PASSWORD = env_str("DEFAULT_PASSWORD", "admin")
SESSION_TTL_HOURS = env_int("SESSION_TTL_HOURS", 24, minimum=1)
LOGIN_ATTEMPT_LIMIT = env_int("LOGIN_ATTEMPT_LIMIT", 10, minimum=0)
LOGIN_COOLDOWN_S = env_int("LOGIN_COOLDOWN_S", 900, minimum=1)

# --- Browser UI -------------------------------------------------------------------------
# The web UI signs in with Django's session cookie (an EventSource cannot send a bearer
# header); the session holds an AuthSession token server-side, so it lives as long as one.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_NAME = "pixelsmith_session"
SESSION_COOKIE_AGE = SESSION_TTL_HOURS * 3600
SESSION_COOKIE_SAMESITE = "Lax"
# SECURE_COOKIES=true when the UI is only reached over https (cookies never sent in clear).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_NAME = "pixelsmith_csrf"
CSRF_FAILURE_VIEW = "apps.web.account.csrf_failure"
LOGIN_URL = "/login"

# --- Limits -------------------------------------------------------------------------
MAX_UPLOAD_SIZE_MB = env_int("MAX_UPLOAD_SIZE_MB", 100, minimum=1)
MAX_MEGAPIXELS = env_int("MAX_MEGAPIXELS", 100, minimum=1)
# video-upscale: the longest input (seconds) and the largest output frame (pixels, 4K UHD),
# both checked from the container's header before any frame is decoded; and the length of
# a resumable segment (a worker that dies loses at most this much of a video's work).
MAX_VIDEO_SECONDS = env_int("MAX_VIDEO_SECONDS", 1800, minimum=1)
MAX_VIDEO_PIXELS = env_int("MAX_VIDEO_PIXELS", 3840 * 2160, minimum=64 * 64)
VIDEO_SEGMENT_SECONDS = env_int("VIDEO_SEGMENT_SECONDS", 10, minimum=1)
# Below this much free space on DATA_DIR's disk, new work is refused with 507 DISK_FULL
# (so the database and running jobs keep room to finish); 0 turns the check off.
MIN_FREE_DISK_MB = env_int("MIN_FREE_DISK_MB", 200, minimum=0)
# Each SVG is read and drawn by librsvg in a child process with these CPU-time and memory
# limits (an SVG's cost is not bounded by its pixel count: filters, references).
SVG_RENDER_TIMEOUT_S = env_int("SVG_RENDER_TIMEOUT_S", 60, minimum=1)
SVG_RENDER_MEMORY_MB = env_int("SVG_RENDER_MEMORY_MB", 2048, minimum=256)
RATE_LIMIT_PER_MIN = env_int("RATE_LIMIT_PER_MIN", 100, minimum=0)
LOGO_MAX_KB = 500

FILE_UPLOAD_TEMP_DIR = str(TMP_DIR)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024  # non-file fields (settings JSON)
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

# --- Engine -------------------------------------------------------------------------
# libvips threads per operation; 0 lets libvips pick one per core.
VIPS_CONCURRENCY = env_int("VIPS_CONCURRENCY", 0, minimum=0)
# The web process runs the fast jobs inside requests, many at once: there, more libvips
# threads per operation only contend (bench/http_compare.py, 8 clients: +13 % requests/s
# at 1 MP, +6 % at 12 MP with 1). 0: VIPS_CONCURRENCY, as in the workers.
WEB_VIPS_CONCURRENCY = env_int("WEB_VIPS_CONCURRENCY", 1, minimum=0)

# --- File library ------------------------------------------------------------------
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "local", ("local", "s3"))
# Per-user limit on the sum of the sizes of all versions of their files; 0 = unlimited.
STORAGE_QUOTA_MB = env_int("STORAGE_QUOTA_MB", 0, minimum=0)


def library_storage() -> dict[str, Any]:
    """The `library` entry of STORAGES: local files under DATA_DIR, or an S3-compatible bucket.

    Blobs are content-addressed, so writing a key again writes the same bytes: overwriting
    is allowed (it also spares S3 an existence check per write, and lets the local storage
    move a finished temporary file into place instead of writing the key piecemeal).
    """
    if STORAGE_BACKEND == "local":
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(DATA_DIR / "library"), "allow_overwrite": True},
        }
    bucket = env_str("S3_BUCKET", "")
    if not bucket:
        raise ImproperlyConfigured("S3_BUCKET is required when STORAGE_BACKEND=s3")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            # Unset keys fall back to boto3's own chain (instance roles, ~/.aws, AWS_* vars).
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "file_overwrite": True,
            "default_acl": None,  # private objects: every read goes through the API
        },
    }


# --- Monitoring ---------------------------------------------------------------------
# The bearer token Prometheus presents to GET /metrics; empty = only admins may read it.
METRICS_TOKEN = env_str("METRICS_TOKEN", "").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 16:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 32`)"
    )

# --- Webhooks -----------------------------------------------------------------------
# The server's address as webhook receivers reach it (https://pixelsmith.example.org):
# the links in payloads are absolute with it, relative paths without.
PUBLIC_URL = env_str("PUBLIC_URL", "").strip().rstrip("/")
# Target URLs resolving to private, loopback or link-local addresses are refused (SSRF)
# unless this is true (a homelab whose receivers live on the LAN).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_S = env_int("WEBHOOK_TIMEOUT_S", 10, minimum=1)  # connect + answer, in all
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 5, minimum=1)  # the first send included
WEBHOOK_MAX_PER_USER = env_int("WEBHOOK_MAX_PER_USER", 20, minimum=1)
# https receivers: a CA bundle trusted instead of the public CAs (a homelab's own CA).
WEBHOOK_CA_FILE = env_str("WEBHOOK_CA_FILE", "") or None

# --- REST framework and OpenAPI ---------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.apikeys.authentication.ApiKeyAuthentication",
        "apps.accounts.authentication.SessionTokenAuthentication",
        "apps.accounts.authentication.BrowserSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.throttling.ApiRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.negotiation.NeverNotAcceptable",
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "apps.core.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `?format=` is an API parameter here (GET /api/v1/files?format=png), not a renderer
    # choice: DRF would answer 404 for any format it has no renderer for.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pixelsmith API",
    "DESCRIPTION": "Self-hosted image processing: tools, pipelines, jobs and a file library.",
    "VERSION": VERSION,
    "OAS_VERSION": "3.1.0",
    # Tags (and generated operation ids) from the segment after /api/ or /api/v1/: "auth",
    # "jobs", "files"... rather than one "api" tag holding everything.
    "SCHEMA_PATH_PREFIX": r"/api(/v1)?",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.toolsapi.openapi.add_tool_paths",
        "apps.toolsapi.openapi.json_bodies_only",
        "apps.toolsapi.openapi_jobs.add_job_schemas",
        "apps.toolsapi.openapi_jobs.binary_answers",
        "apps.toolsapi.openapi_answers.add_answer_schemas",
    ],
}

# --- Static files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# The project's own static files, once there are any (Django warns about a missing folder).
STATICFILES_DIRS = [BASE_DIR / "static"]
# The UI's files come from STATIC_ROOT, where collectstatic (make run, the Docker image)
# put them with gzip and brotli copies. With nothing collected (a checkout, the tests:
# STATIC_FROM_SOURCE=true) they are served straight from static/, uncompressed: whitenoise's
# finders would otherwise hide the compressed copies.
WHITENOISE_USE_FINDERS = env_bool("STATIC_FROM_SOURCE", not (STATIC_ROOT / "web").is_dir())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "library": library_storage(),
}
MEDIA_ROOT = DATA_DIR / "files"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True  # the UI's texts go through gettext, so translations can be added
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "pyvips": {"level": "WARNING"},  # libvips chatters at INFO on every threadpool
    },
}
