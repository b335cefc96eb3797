"""GET /metrics: Prometheus text, computed from the database and this process at scrape time.

Nothing is counted in memory between scrapes: with several web processes (WEB_WORKERS)
and separate worker processes, per-process counters would each tell part of the story.
Every value is read when Prometheus asks, into a fresh CollectorRegistry:

- `pixelsmith_jobs{tool,status}`: Job rows by tool and status (a gauge: rows expire
  after JOB_RESULT_TTL_HOURS, so it is not a counter).
- `pixelsmith_job_duration_seconds{tool}`: how long the jobs completed in the last hour
  ran (started to finished), as a gauge histogram: a snapshot of that hour at each
  scrape, so use `histogram_quantile()` on its buckets directly, without `rate()`.
- `pixelsmith_queue_depth{queue}`: jobs waiting for a worker, per queue.
- `pixelsmith_model_installed{model,engine}`, `pixelsmith_models_installed`,
  `pixelsmith_models_installed_bytes`: the models on disk. Loaded models live in each
  worker process's own store, out of the web process's sight; what the web process can
  tell is what is installed, and how many bytes a worker may have to load.
- `pixelsmith_engine_available{engine}`: whether this process can use each AI engine.
- `pixelsmith_gpu_memory_{total,used}_bytes{gpu,name}`: when NVML sees GPUs here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from apps.jobs.models import Job
from tools.ai import engines, install
from tools.ai.catalog import catalog

# Prometheus's classic text format: every Prometheus release reads it, and the names here
# need nothing newer (prometheus-client's CONTENT_TYPE_LATEST now says 1.0.0).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_WINDOW = timedelta(hours=1)
# Seconds; from inline tool calls (well under a second) to JOB_TIMEOUT_S's default.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class PixelsmithCollector:
    """Every Pixelsmith metric, read afresh at each collect()."""

    def collect(self) -> Iterator[Metric]:
        yield info()
        yield jobs_by_status()
        yield job_durations(timezone.now())
        yield queue_depth()
        yield from installed_models(settings.MODELS_DIR)
        yield engines_available()
        yield from gpu_memory()


def render() -> bytes:
    """The exposition text of one scrape (a registry of its own: no state is shared)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PixelsmithCollector())
    return generate_latest(registry)


def info() -> Metric:
    family = GaugeMetricFamily("pixelsmith_info", "This server's version", labels=["version"])
    family.add_metric([settings.VERSION], 1)
    return family


def jobs_by_status() -> Metric:
    family = GaugeMetricFamily(
        "pixelsmith_jobs", "Jobs in the database, by tool and status", labels=["tool", "status"]
    )
    rows = Job.objects.order_by().values("tool_id", "status").annotate(count=Count("id"))
    for row in rows:
        family.add_metric([row["tool_id"], row["status"]], row["count"])
    return family


def job_durations(now: datetime) -> Metric:
    """Run times of the jobs completed within DURATION_WINDOW, per tool."""
    family = GaugeHistogramMetricFamily(
        "pixelsmith_job_duration_seconds",
        "Run time of the jobs completed in the last hour, per tool (a snapshot at each "
        "scrape: use histogram_quantile() on it without rate())",
        labels=["tool"],
    )
    durations: dict[str, list[float]] = defaultdict(list)
    rows = Job.objects.filter(
        status=Job.Status.COMPLETED, finished_at__gte=now - DURATION_WINDOW
    ).exclude(started_at=None)
    for tool, started, finished in rows.values_list("tool_id", "started_at", "finished_at"):
        if started is not None and finished is not None:  # both set: filtered above
            durations[tool].append(max(0.0, (finished - started).total_seconds()))
    for tool, seconds in sorted(durations.items()):
        family.add_metric([tool], _buckets(seconds), gsum_value=sum(seconds))
    return family


def _buckets(seconds: list[float]) -> list[tuple[str, float]]:
    """Cumulative bucket counts, +Inf last."""
    counts = [(str(bound), float(sum(s <= bound for s in seconds))) for bound in DURATION_BUCKETS]
    return [*counts, ("+Inf", float(len(seconds)))]


def queue_depth() -> Metric:
    family = GaugeMetricFamily(
        "pixelsmith_queue_depth", "Jobs waiting for a worker, per queue", labels=["queue"]
    )
    waiting = dict.fromkeys(["cpu", "gpu"] if settings.GPU_QUEUE else ["cpu"], 0)
    queued = Job.objects.filter(status=Job.Status.QUEUED).order_by().values("queue")
    for row in queued.annotate(count=Count("id")):
        waiting[row["queue"]] = row["count"]
    for queue, count in waiting.items():
        family.add_metric([queue], count)
    return family


def installed_models(root: Path) -> Iterator[Metric]:
    each = GaugeMetricFamily(
        "pixelsmith_model_installed",
        "1 when the model is installed with every file's sha256, else 0",
        labels=["model", "engine"],
    )
    count, size = 0, 0
    for spec in catalog().values():
        installed = install.status(root, spec) == "installed"
        each.add_metric([spec.id, spec.engine], 1 if installed else 0)
        if installed:
            count += 1
            size += sum(_size(install.file_path(root, spec, f)) for f in spec.files)
    yield each
    yield GaugeMetricFamily("pixelsmith_models_installed", "Models installed", value=count)
    yield GaugeMetricFamily(
        "pixelsmith_models_installed_bytes",
        "Bytes of the installed models' files (what workers may load)",
        value=size,
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # removed since its status was read: counted at the next scrape
        return 0


def engines_available() -> Metric:
    family = GaugeMetricFamily(
        "pixelsmith_engine_available",
        "1 when this process can use the AI engine, else 0",
        labels=["engine"],
    )
    for engine in engines.ENGINES:
        family.add_metric([engine], 1 if engines.check(engine).available else 0)
    return family


def gpu_memory() -> Iterator[Metric]:
    """GPU memory as NVML reports it; nothing when there is no GPU or driver here."""
    gpus, _ = engines.gpu_devices()
    if not gpus:
        return
    labels = ["gpu", "name"]
    total = GaugeMetricFamily("pixelsmith_gpu_memory_total_bytes", "GPU memory", labels=labels)
    used = GaugeMetricFamily("pixelsmith_gpu_memory_used_bytes", "GPU memory in use", labels=labels)
    for gpu in gpus:
        names = [str(gpu["index"]), gpu["name"]]
        total.add_metric(names, gpu["memoryTotalBytes"])
        used.add_metric(names, gpu["memoryUsedBytes"])
    yield total
    yield used
