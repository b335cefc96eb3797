"""model-benchmark: a system tool run as a job by POST /api/v1/system/benchmark (admins).

Per installed ONNX model, on the hardware of the worker that takes the job: the load
time, the warm latency (median of `runs` runs after one warm-up, on an input of the
model's declared shape with dynamic sizes at 64 px) and the provider that ran it. Its
`device` is "gpu": with GPU_QUEUE on, it measures the GPU worker.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from tools.ai import install, onnx_session
from tools.ai.catalog import ModelSpec, catalog
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError, ToolSettings
from tools.model_load import onnx_spec

DYNAMIC = 64  # the size given to a model's dynamic dimensions


class BenchmarkSettings(ToolSettings):
    models: list[str] = Field(
        default_factory=list, max_length=100, description="Default: every installed ONNX model."
    )
    runs: int = Field(3, ge=1, le=20)


def _feed(session: onnx_session.Session) -> dict[str, np.ndarray]:
    feeds = {}
    rng = np.random.default_rng(0)
    for node in session.inference.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else DYNAMIC for d in node.shape]
        if shape and len(shape) == 4 and not isinstance(node.shape[0], int):
            shape[0] = 1
        dtype = np.float32 if "float" in node.type else np.int64
        feeds[node.name] = rng.random(shape).astype(dtype)
    return feeds


def _measure(ctx: Context, spec: ModelSpec, runs: int) -> list[dict[str, Any]]:
    found = []
    for file in spec.files:
        path = install.require(ctx.model_dir, spec, file)
        assert file.sha256 is not None
        started = time.perf_counter()
        session = onnx_session.load(path, model_id=spec.id, sha256=file.sha256, device=ctx.device)
        load_s = time.perf_counter() - started
        feeds = _feed(session)
        session.run(feeds)  # warm-up: the first run allocates
        times = []
        for _ in range(runs):
            ctx.check_cancelled()
            started = time.perf_counter()
            session.run(feeds)
            times.append(time.perf_counter() - started)
        found.append(
            {
                **session.describe(),
                "file": file.name,
                "input": {k: list(v.shape) for k, v in feeds.items()},
                "loadS": round(load_s, 3),
                "warmMs": round(1000 * statistics.median(times), 2),
            }
        )
    return found


def benchmark(inputs: Sequence[Source], settings: BenchmarkSettings, ctx: Context) -> Output:
    if settings.models:
        specs = [onnx_spec(model_id) for model_id in settings.models]
    else:
        specs = [
            spec
            for spec in catalog().values()
            if spec.engine == "onnxruntime" and install.status(ctx.model_dir, spec) == "installed"
        ]
    results = []
    for index, spec in enumerate(specs):
        ctx.progress(100 * index / max(len(specs), 1), f"benchmarking {spec.id}")
        try:
            results += _measure(ctx, spec, settings.runs)
        except ToolError as exc:
            results.append({"model": spec.id, "error": exc.message})
    data = {"device": ctx.device, "runs": settings.runs, "results": results}
    return Output.json(data, engine=f"onnxruntime {onnx_session.ort.__version__}")


TOOL = Tool(
    id="model-benchmark",
    name="Model benchmark",
    category="system",
    description="Load time, warm latency and provider of each installed ONNX model (admins).",
    settings=BenchmarkSettings,
    run=benchmark,
    inputs=Inputs.NONE,
    output=OutputKind.JSON,
    device="gpu",
    inline=False,
)
