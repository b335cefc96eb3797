"""model-download: a catalog model's files fetched by a worker, as a job (admins only).

Not a public tool: it is registered among the system tools (tools/registry.py), which the
tools API and pipelines never offer; POST /api/v1/models/{id}/download creates its job and
fills `hosts` and `caFile` from the server's settings. Progress is in bytes (SSE shows
"model.onnx: 12.0 of 180.0 MB"); a cancel stops within one chunk and keeps the part file,
so the next download resumes.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from tools.ai.catalog import ID_PATTERN, get
from tools.ai.download import Downloader
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError, ToolSettings

MB = 1024 * 1024


class Settings(ToolSettings):
    model: str = Field(pattern=ID_PATTERN.pattern, max_length=100)
    hosts: list[str] = Field(default_factory=list, max_length=50)
    caFile: str | None = Field(None, max_length=4096)


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    spec = get(settings.model)
    if spec is None:
        raise ToolError("MODEL_NOT_FOUND", f"Unknown model: {settings.model}", 404)

    def progress(done: int, total: int, name: str) -> None:
        percent = 100.0 * done / total if total else 100.0
        if name:
            ctx.progress(percent, f"{name}: {done / MB:.1f} of {total / MB:.1f} MB")

    downloader = Downloader(
        ctx.model_dir,
        hosts=settings.hosts,
        ca_file=settings.caFile,
        progress=progress,
        is_cancelled=ctx.is_cancelled,
    )
    fetched = downloader.download(spec)
    data = {
        "model": spec.id,
        "downloaded": fetched,
        "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in spec.files],
    }
    return Output.json(data, engine="Pixelsmith model downloader")


TOOL = Tool(
    id="model-download",
    name="Model download",
    category="system",
    description="Downloads a catalog model's files, verified by sha256 (admins).",
    settings=Settings,
    run=run,
    inputs=Inputs.NONE,
    output=OutputKind.JSON,
    inline=False,
)
