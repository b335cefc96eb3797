"""model-load: a system tool run as a job by POST /api/v1/models/{id}/load (admins).

It loads (and pins) a model's ONNX sessions in the worker process that takes
  the job, so the next job on it does not wait for the load. Only that process: to keep a
  model warm in every worker process, name it in MODEL_PRELOAD. Its `device` is "gpu", so
  with GPU_QUEUE on it warms the GPU worker, where loads cost most.
It is not offered to users (tools/registry.py SYSTEM_TOOL_MODULES).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import Field

from tools.ai import onnx_session
from tools.ai.catalog import ID_PATTERN, ModelSpec, get
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError, ToolSettings


class LoadSettings(ToolSettings):
    model: str = Field(pattern=ID_PATTERN.pattern, max_length=100)


def onnx_spec(model_id: str) -> ModelSpec:
    spec = get(model_id)
    if spec is None:
        raise ToolError("MODEL_NOT_FOUND", f"Unknown model: {model_id}", 404)
    if spec.engine != "onnxruntime":
        raise ToolError(
            "MODEL_NOT_LOADABLE",
            f"{spec.id} runs on {spec.engine}: its tools load it on first use",
            409,
        )
    return spec


def load(inputs: Sequence[Source], settings: LoadSettings, ctx: Context) -> Output:
    spec = onnx_spec(settings.model)
    loaded = []
    for index, file in enumerate(spec.files):
        ctx.progress(100 * index / len(spec.files), f"loading {file.name}")
        started = time.perf_counter()
        session = onnx_session.for_model(ctx, spec, file, pinned=True)
        loaded.append({**session.describe(), "loadS": round(time.perf_counter() - started, 3)})
    return Output.json({"model": spec.id, "loaded": loaded}, engine=loaded[0]["engine"])


TOOL = Tool(
    id="model-load",
    name="Model load",
    category="system",
    description="Loads and pins a model's sessions in a worker process (admins).",
    settings=LoadSettings,
    run=load,
    inputs=Inputs.NONE,
    output=OutputKind.JSON,
    device="gpu",
    inline=False,
)
