"""Automatic1111's upscaler and face-restorer names, mapped onto our tools and catalog.

A1111 lists "None", "Lanczos", "Nearest" and one entry per upscale model; its clients
send those names back in `upscaler_1` / `upscaler_2`. Here:

- "None": no upscaling (A1111 then returns the image as it is).
- "Lanczos" and "Nearest": classic enlargement by our `resize` tool (libvips Lanczos3).
  `resize` has no nearest-neighbour kernel, so "Nearest" is served by Lanczos3 too, and
  the answer's html_info says so.
- Every upscale model of our catalog, under A1111's own name where A1111 has one for the
  same network (`R-ESRGAN 4x+` is realesrgan-x4plus, `R-ESRGAN 4x+ Anime6B`
  realesrgan-x4plus-anime, `R-ESRGAN AnimeVideo` realesr-animevideov3), and under our id.

Names match case-insensitively (and around surrounding spaces); an unknown name is 404
UPSCALER_NOT_FOUND listing the valid ones (A1111 fails with an AssertionError, a 500).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from apps.core.errors import ApiError
from tools import upscale
from tools.ai import face_restore, install
from tools.ai.catalog import ModelSpec, catalog

NONE = "None"
# A1111's names (modules/realesrgan_model.py) for the networks our catalog also has.
A1111_NAMES = {
    "realesrgan-x4plus": "R-ESRGAN 4x+",
    "realesrgan-x4plus-anime": "R-ESRGAN 4x+ Anime6B",
    "realesr-animevideov3": "R-ESRGAN AnimeVideo",
}
CLASSIC = ("Lanczos", "Nearest")
# A1111's face restorers by name: our enhance-faces model choice and its catalog id.
FACE_RESTORERS = {"GFPGAN": "gfpgan", "CodeFormer": "codeformer"}


@dataclass(frozen=True)
class Upscaler:
    """One listed name: no upscaling, a classic resize, or a catalog model."""

    name: str
    model: ModelSpec | None = None

    @property
    def is_none(self) -> bool:
        return self.name == NONE

    @property
    def label(self) -> str:
        """What html_info says ran, honestly."""
        if self.model is not None:
            return f"{self.name} ({self.model.id})" if self.name != self.model.id else self.name
        if self.name == "Nearest":
            return "Nearest (served by libvips Lanczos3: no nearest-neighbour kernel here)"
        return f"{self.name} (libvips Lanczos3)" if self.name == "Lanczos" else self.name


def upscale_models() -> list[ModelSpec]:
    """The catalog's models that the `upscale` tool runs, in catalog order."""
    return [s for s in catalog().values() if s.task == "upscale" and s.id in upscale.MODELS]


def all_upscalers() -> list[Upscaler]:
    """Every name in A1111's order: None, the classic ones, then the models (A1111's
    name first where it has one, then our id)."""
    found = [Upscaler(NONE), *(Upscaler(name) for name in CLASSIC)]
    for spec in upscale_models():
        if spec.id in A1111_NAMES:
            found.append(Upscaler(A1111_NAMES[spec.id], spec))
        found.append(Upscaler(spec.id, spec))
    return found


def find(name: Any, field: str) -> Upscaler:
    """The upscaler a request names (case-insensitively); 404 naming the valid ones."""
    wanted = str(name if name is not None else NONE).strip().casefold()
    known = all_upscalers()
    for upscaler in known:
        if upscaler.name.casefold() == wanted:
            return upscaler
    names = ", ".join(u.name for u in known)
    raise ApiError(
        404,
        "UPSCALER_NOT_FOUND",
        f"{field}: no upscaler named {str(name)[:64]!r}; use one of: {names}",
    )


def installed_path(spec: ModelSpec) -> str | None:
    """The model's folder under MODELS_DIR, relative to it, when every file is there."""
    if install.status(settings.MODELS_DIR, spec) != "installed":
        return None
    return spec.id


def upscaler_items() -> list[dict[str, Any]]:
    """GET /sdapi/v1/upscalers: A1111's UpscalerItem fields, plus `installed`."""
    items = []
    for upscaler in all_upscalers():
        spec = upscaler.model
        path = installed_path(spec) if spec else None
        items.append(
            {
                "name": upscaler.name,
                "model_name": spec.id if spec else None,
                "model_path": path,
                "model_url": spec.homepage if spec else None,
                "scale": float(max(spec.scales)) if spec and spec.scales else None,
                "installed": path is not None if spec else True,  # classic ones always are
            }
        )
    return items


def face_restorer_items() -> list[dict[str, Any]]:
    """GET /sdapi/v1/face-restorers: A1111's FaceRestorerItem (name, cmd_dir) plus the
    catalog model each maps to and whether it is installed (both are downloads)."""
    items = []
    for name, choice in FACE_RESTORERS.items():
        spec = catalog()[face_restore.MODELS[choice]]
        path = installed_path(spec)
        items.append({"name": name, "cmd_dir": path, "model": spec.id, "installed": bool(path)})
    return items


def require_face_model(choice: str) -> None:
    """503 MODEL_NOT_INSTALLED (with how to install it) before any work, when the face
    model a request asks for is missing: no upscale runs only to fail afterwards."""
    spec = catalog()[face_restore.MODELS[choice]]
    for file in spec.files:
        install.require(settings.MODELS_DIR, spec, file)
