"""The engine's vocabulary: what a tool is, what it gets, what it returns.

A tool is pure processing. It never knows who called it, over which transport, or
where its result will be stored. The apps hand it `Source` files and a `Context`, and
take back an `Output`.
"""

from __future__ import annotations

import copy
import functools
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.ai.store import ModelStore, process_store


class Inputs(StrEnum):
    """How many files a tool takes."""

    NONE = "none"  # generators: settings only
    OPTIONAL = "optional"  # zero or one file (qr-generate's logo)
    ONE = "one"
    TWO = "two"  # `file` + a second file (`overlay`)
    MANY = "many"


class OutputKind(StrEnum):
    """What a tool returns; pipelines chain IMAGE into a tool that takes an image."""

    IMAGE = "image"
    IMAGES = "images"  # several images: returned as a ZIP
    JSON = "json"
    DOCUMENT = "document"  # PDF, SVG, ZIP of mixed files: not an image for the next step


class ToolError(Exception):
    """Something the caller did wrong (bad settings, bad file): a 4xx, never a 500.

    `status` is 400 for a bad request and 422 for a file we understood the type of
    but could not process (truncated, corrupt).
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Cancelled(Exception):  # a signal, not an error: hence not named ...Error
    """Raised by `Context.check_cancelled` when the job was cancelled."""


class ToolSettings(BaseModel):
    """Base of every tool's settings: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


@dataclass(frozen=True)
class Source:
    """One input file as received: a path on local disk, its original name and size.

    `format` is sniffed from the magic bytes by `imaging.sniff`, never from the name.
    """

    path: Path
    name: str
    format: str
    size: int


def _no_progress(percent: float, message: str = "") -> None:
    """Default progress sink for callers that don't track progress."""


def _never_cancelled() -> bool:
    return False


@dataclass
class Context:
    """What a running tool may use besides its inputs and settings.

    `device` is where this run may compute ("cpu" or "gpu"); `models` is the process's
    store of loaded models, so a model is loaded once per worker, not once per job;
    `model_dir` is where installed model files are (MODELS_DIR). `watched` is False when
    nobody follows the run's progress or can cancel it (a job answered in its own
    request): then the tools skip what reporting costs, such as libvips' progress signal,
    which calls into Python, for the GIL, on every tile of an encode.
    """

    scratch_dir: Path
    progress: Callable[[float, str], None] = _no_progress
    is_cancelled: Callable[[], bool] = _never_cancelled
    device: str = "cpu"
    max_megapixels: int = 100
    models: ModelStore = field(default_factory=process_store)
    model_dir: Path = Path("models")
    watched: bool = True

    def derive(self, **changes: Any) -> Context:
        """The same context with some parts replaced (a step's progress, a file's scratch)."""
        return replace(self, **changes)

    def check_cancelled(self) -> None:
        """Call at file/tile boundaries so a cancel stops work promptly."""
        if self.is_cancelled():
            raise Cancelled()

    def scratch_path(self, name: str) -> Path:
        """A path for an output file inside this run's scratch directory."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        return self.scratch_dir / Path(name).name


@dataclass
class Output:
    """A tool's result: a file on disk (image/document) or JSON data.

    `filename` is the suggested download name (the caller may prefix the original
    name); `engine`, `model` (and its `model_sha256`) and `device` say honestly what
    produced the result: a model's session reports them (tools.ai.onnx_session).
    """

    kind: OutputKind
    path: Path | None = None
    filename: str = ""
    media_type: str = "application/octet-stream"
    data: dict[str, Any] | None = None
    engine: str = ""
    model: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    model_sha256: str | None = None

    @classmethod
    def file(
        cls, kind: OutputKind, path: Path, filename: str, engine: str, **extras: Any
    ) -> Output:
        media_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return cls(
            kind, path=path, filename=filename, media_type=media_type, engine=engine, extras=extras
        )

    @classmethod
    def json(cls, data: dict[str, Any], engine: str) -> Output:
        return cls(OutputKind.JSON, data=data, media_type="application/json", engine=engine)


RunFn = Callable[[Sequence[Source], Any, Context], Output]


@dataclass(frozen=True)
class Tool:
    """A registered tool. `settings` is its pydantic model; `run` does the work."""

    id: str
    name: str
    category: str
    description: str
    # A ToolSettings model, or a RootModel over a union of them (one model per mode).
    settings: type[BaseModel]
    run: RunFn
    inputs: Inputs = Inputs.ONE
    min_inputs: int = 1  # Inputs.MANY: the fewest files that make sense (stitch: 2)
    output: OutputKind = OutputKind.IMAGE
    device: str = "cpu"
    models: tuple[str, ...] = ()
    # What a run needs of `models`: each inner tuple is met by any one installed model of
    # it. None: any one of `models`; (): nothing (a classical engine runs without them,
    # and the models are better choices when installed).
    needs: tuple[tuple[str, ...], ...] | None = None
    experimental: bool = False
    # Takes video files (tools.video.formats); every other tool refuses them (runner).
    takes_video: bool = False
    # Fast tools run inside the request; the rest go to a worker queue.
    inline: bool = True

    def model_needs(self) -> tuple[tuple[str, ...], ...]:
        """`needs`, with its default (any one of `models`) spelled out."""
        if self.needs is not None:
            return self.needs
        return (self.models,) if self.models else ()

    def parse_settings(self, raw: dict[str, Any]) -> BaseModel:
        """Validate raw settings; raises pydantic.ValidationError."""
        return self.settings.model_validate(raw)

    def describe(self) -> dict[str, Any]:
        """The catalog entry: what clients need to call this tool."""
        return {
            "id": self.id,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "inputs": self.inputs.value,
            "output": self.output.value,
            "device": self.device,
            "models": list(self.models),
            "experimental": self.experimental,
            "takesVideo": self.takes_video,
            "settings": settings_schema(self.settings),
        }


@functools.cache
def _schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def settings_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A settings model's JSON schema: built once per process (pydantic takes ~2 ms a tool,
    and the catalog, the tool pages and the pipeline builder ask for all of them), copied
    so no caller can change the cached one."""
    return copy.deepcopy(_schema_of(model))
