"""rembg's own session classes and alpha matting, around our verified ONNX sessions.

rembg (2.0.86) pairs each background-removal model with a session class that knows its
input size, normalisation and post-processing (`U2netpSession` resizes to 320x320 with
ImageNet mean/std and min-max scales the first output; BiRefNet adds a sigmoid, ISNet
uses other means). Those classes load their weights with pooch from GitHub on first use,
which a server must never do: here the class is built without its `__init__` around the
onnxruntime session `onnx_session.for_model` gives (installed file, sha256 checked,
cached per process), so `predict` is rembg's code on our bytes, and nothing downloads.

Catalog ids are rembg's model names (`u2netp`, `birefnet-general`, `isnet-general-use`),
so any model in both rembg's `sessions` table and the catalog runs the same way. A model
missing from the catalog or not installed is 503 MODEL_NOT_INSTALLED, naming the model
and how to install it.

rembg and pymatting import numba and scipy (~1.5 s), onnx_session onnxruntime: all are
imported on first use, never by the web process (which imports every tool to list it).
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from types import ModuleType
from typing import Any

from PIL.Image import Image as PILImage

from tools.ai.catalog import catalog
from tools.base import Context, ToolError


@cache
def _sessions() -> dict[str, type[Any]]:
    """rembg's session class per model name."""
    from rembg.sessions import sessions

    return dict(sessions)


@cache
def _bg() -> ModuleType:
    """rembg.bg: its alpha matting (pymatting) and helpers."""
    import rembg.bg

    return rembg.bg


def rembg_version() -> str:
    return f"rembg {metadata.version('rembg')}"


def pymatting_version() -> str:
    return f"pymatting {metadata.version('pymatting')}"


def not_installed(model_id: str) -> ToolError:
    """503 for a model this server's catalog does not list (yet)."""
    return ToolError(
        "MODEL_NOT_INSTALLED",
        f"Model '{model_id}' is not installed: it is not in this server's model catalog. "
        f"Once it is, install it with `manage.py models install {model_id}` "
        f"(or POST /api/v1/models/{model_id}/download as an admin)",
        503,
    )


def session(ctx: Context, model_id: str) -> tuple[Any, dict[str, Any]]:
    """rembg's session object for `model_id` on our cached onnxruntime session, and the
    run's description {engine, model, modelSha256, device} (engine says rembg too)."""
    spec = catalog().get(model_id)
    cls = _sessions().get(model_id)
    if spec is None:
        raise not_installed(model_id)
    if cls is None or len(spec.files) != 1 or spec.engine != "onnxruntime":
        raise ToolError("MODEL_UNSUPPORTED", f"Model '{model_id}' is not a rembg ONNX model", 400)
    from tools.ai import onnx_session  # onnxruntime: not for the web process

    ours = onnx_session.for_model(ctx, spec, spec.files[0])
    wrapped = object.__new__(cls)  # BaseSession.__init__ would fetch the weights (pooch)
    wrapped.model_name = model_id
    wrapped.inner_session = ours.inference
    described = ours.describe()
    described["engine"] = f"{rembg_version()} {cls.__name__} on {described['engine']}"
    return wrapped, described


def predict_mask(ctx: Context, model_id: str, image: PILImage) -> tuple[PILImage, dict[str, Any]]:
    """The model's mask ("L", 255 = subject) at the image's size, by rembg's `predict`."""
    rembg_session, described = session(ctx, model_id)
    masks = rembg_session.predict(image)
    return masks[0], described


def alpha_matting(
    image: PILImage, mask: PILImage, foreground: int, background: int, erode: int
) -> PILImage | None:
    """rembg's `alpha_matting_cutout` (closed-form matting by pymatting on a trimap of
    the mask, then ML foreground estimation): an RGBA cutout with the matted alpha and
    the foreground colours unmixed from the background. None when pymatting refuses the
    trimap (e.g. no unknown or no known pixels), where rembg's `remove` would quietly
    fall back."""
    try:
        cutout: PILImage = _bg().alpha_matting_cutout(image, mask, foreground, background, erode)
    except ValueError:
        return None
    return cutout
