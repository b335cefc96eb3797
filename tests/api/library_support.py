"""Helpers for the file library tests: images to upload, the stored bytes, versions from tools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyvips
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.library import services
from apps.library.models import FileVersion, StoredFile
from tests.badfiles import FIXTURES
from tools import imaging, registry, runner
from tools.base import Context, Output

PHOTO = FIXTURES / "photo.jpg"  # 600×400
ROTATED = FIXTURES / "photo_rotated.jpg"  # stored 400×600, EXIF 6: displayed 600×400
TRANSPARENT = FIXTURES / "transparent.png"  # 451×300 RGBA


def upload(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PHOTO.read_bytes() if data is None else data)


def png(width: int, height: int, level: int = 128) -> bytes:
    """A flat grey PNG; `level` makes otherwise equal images different content."""
    image = (pyvips.Image.black(width, height) + level).cast("uchar")
    return bytes(image.pngsave_buffer())


def noise_png(width: int, height: int) -> bytes:
    """A PNG that does not compress: about width × height × 3 bytes."""
    noise = pyvips.Image.gaussnoise(width, height, sigma=80, mean=128).cast("uchar")
    return bytes(noise.bandjoin([noise.rot180(), noise.fliphor()]).pngsave_buffer())


def post_files(client: Any, *uploads: SimpleUploadedFile, field: str = "files") -> Any:
    body = {field: list(uploads) if len(uploads) > 1 else uploads[0]}
    return client.post("/api/v1/upload", body, format="multipart")


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def decoded(response: Any) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body_of(response), "")


def library_root() -> Path:
    return Path(settings.STORAGES["library"]["OPTIONS"]["location"])


def stored_names() -> list[str]:
    """Every file in the local library storage, relative to its root."""
    root = library_root()
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def scratch_left() -> list[str]:
    return sorted(p.name for p in settings.TMP_DIR.iterdir())


def run_tool(version: FileVersion, tool_id: str, tool_settings: dict[str, Any]) -> Output:
    """Run a tool on a version's bytes, like a tool call with a fileId will."""
    tool = registry.get(tool_id)
    assert tool is not None
    with services.local_copy(version) as path:
        source = imaging.open_source(path, version.file.name)
        output = runner.execute(tool, [source], tool_settings, Context(settings.TMP_DIR / "run"))
    assert output.path is not None
    return output


def add_tool_version(
    stored: StoredFile, tool_id: str, tool_settings: dict[str, Any], **extra: Any
) -> FileVersion:
    """The file's next version: `tool_id` run on its latest version."""
    latest = stored.versions.get(number=stored.latest_version)
    output = run_tool(latest, tool_id, tool_settings)
    assert output.path is not None
    return services.add_version(
        stored,
        output.path,
        source=extra.pop("source", "tool"),
        tool_id=tool_id,
        settings=tool_settings,
        engine=output.engine,
        **extra,
    )


def mean_difference(a: pyvips.Image, b: pyvips.Image) -> float:
    """Mean absolute difference per pixel and band (0 = same, 255 = opposite)."""
    if (b.width, b.height) != (a.width, a.height):
        b = b.resize(a.width / b.width, vscale=a.height / b.height)
    return float((a.cast("float") - b.cast("float")).abs().avg())
