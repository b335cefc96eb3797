"""PP-OCR (PaddleOCR's PP-OCRv6 models) through rapidocr's pipeline, on our verified files.

rapidocr 3.10 runs the PP-OCR pipeline: DB text detection, the optional 0/180° line
classifier, CTC recognition. The PP-OCRv6 recognition model carries its character
dictionary (18,708 characters) in its ONNX metadata, which rapidocr reads, so no
dictionary file is looked up or downloaded. rapidocr never finds or fetches a model
here either: the three catalog models are loaded by `onnx_session.for_model` (each
file hashed and the very bytes hashed loaded; one session per (model, device) in the
process's ModelStore; the provider that really runs read back, a GPU that falls back
to the CPU said so) and handed to rapidocr's onnxruntime engine as ready sessions
(its `session` option), so its download code is never reached.

A RapidOCR object keeps per-call state (`__call__` stores use_cls, return_word_box on
the instance), so one is built per run around the shared sessions (~30 ms); the
sessions, which are what costs seconds to load, are shared and thread-safe.

Profiles (the detector works at the image's own resolution, as PaddleOCR 3 does with
limit_side_len 64 / "min", not at rapidocr's "short side at least 736 px", which blows
a one-line strip up 8x, costs time and splits its words apart; see RapidOCR discussion
#715):
- balanced: detection + recognition; the image is scaled to at most 2000 px on its
  longest side first (rapidocr's default).
- best: detection + the 0/180° classifier (upside-down lines are turned before they are
  read) + recognition, up to 4000 px on the longest side.

Languages: PP-OCRv6 is one multilingual model pair (Chinese, English, Japanese and
about 50 Latin-script languages, rapidocr's list for it); the language setting is
checked against that list and recorded, it does not pick another model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import metadata
from typing import Any

import numpy as np

from tools.ai import onnx_session
from tools.ai.catalog import catalog
from tools.ai.onnx_session import Session
from tools.base import Context, ToolError

DET, REC, CLS = "ppocr-v6-det", "ppocr-v6-rec", "ppocr-mobile-v2-cls"
MODELS = (DET, REC, CLS)
# Tesseract-style and other common names for the codes rapidocr uses.
ALIASES = {
    "eng": "en",
    "deu": "de",
    "ger": "de",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "pol": "pl",
    "ces": "cs",
    "dan": "da",
    "swe": "sv",
    "nor": "no",
    "fin": "fi",
    "tur": "tr",
    "vie": "vi",
    "ind": "id",
    "zh": "ch",
    "zh_cn": "ch",
    "chi_sim": "ch",
    "zh_tw": "chinese_cht",
    "chi_tra": "chinese_cht",
    "ja": "japan",
    "jp": "japan",
    "jpn": "japan",
}


@dataclass(frozen=True)
class Profile:
    """rapidocr's settings for one tier."""

    use_cls: bool
    max_side: int  # Global.max_side_len: the longest side the pipeline works at
    det_side: int  # Det.limit_side_len (limit_type "min": the short side is at least this)


PROFILES = {
    "balanced": Profile(use_cls=False, max_side=2000, det_side=64),
    "best": Profile(use_cls=True, max_side=4000, det_side=64),
}


@cache
def languages() -> tuple[str, ...]:
    """The languages rapidocr lists for the PP-OCRv6 small recognition model."""
    from rapidocr import RapidOCR

    return tuple(RapidOCR.list_supported_langs("rec", "PP-OCRv6", "small"))


def resolve_language(language: str) -> str:
    """rapidocr's name for a `language` setting; "auto" stays "auto". 400 with the list
    for a language the model does not read (several, "en+de", must all be read)."""
    if language.lower() == "auto":
        return "auto"
    names = []
    for part in language.split("+"):
        name = ALIASES.get(part.lower(), part.lower())
        if name not in languages():
            raise ToolError(
                "UNSUPPORTED_LANGUAGE",
                f"language {part[:32]!r} is not read by PP-OCRv6 (quality balanced/best); "
                f"it reads: auto, {', '.join(languages())}",
                400,
            )
        names.append(name)
    return "+".join(dict.fromkeys(names))


def sessions(ctx: Context, use_cls: bool) -> dict[str, Session]:
    """The verified, cached sessions (503 MODEL_NOT_INSTALLED naming a missing one)."""
    wanted = (DET, CLS, REC) if use_cls else (DET, REC)
    specs = catalog()
    found = {}
    for model_id in wanted:
        spec = specs[model_id]
        found[model_id] = onnx_session.for_model(ctx, spec, spec.files[0])
    return found


def read(
    ctx: Context, bgr: np.ndarray, quality: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The lines in an (H, W, 3) uint8 BGR image: [{text, confidence, box, words}] with
    boxes [x, y, w, h] in its pixels, top to bottom; and each model run's description."""
    profile = PROFILES[quality]
    loaded = sessions(ctx, profile.use_cls)
    engine = _engine(loaded, profile, ctx.device)
    result = engine(bgr, use_cls=profile.use_cls, return_word_box=True)
    pipeline = f"rapidocr {metadata.version('rapidocr')}"
    runs = [_described(session, pipeline) for session in loaded.values()]
    if not getattr(result, "txts", None):
        return [], runs
    # One word list per line, or none at all (see _words).
    words = result.word_results if len(result.word_results) == len(result.txts) else None
    lines = [
        {
            "text": text,
            "confidence": round(float(score), 4),
            "box": box_of(np.asarray(quad, dtype=np.float64)),
            "words": _words(text, words[index]) if words else [],
        }
        for index, (quad, text, score) in enumerate(
            zip(result.boxes, result.txts, result.scores, strict=True)
        )
    ]
    return lines, runs


def _described(session: Session, pipeline: str) -> dict[str, Any]:
    """The session's description, its engine prefixed by the pipeline that drove it."""
    described = session.describe()
    return {**described, "engine": f"{pipeline} + {described['engine']}"}


def _engine(loaded: dict[str, Session], profile: Profile, device: str) -> Any:
    """A RapidOCR over our sessions (see the module docstring: one per run)."""
    from omegaconf import flag_override
    from rapidocr import RapidOCR

    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": profile.use_cls,
            "Global.max_side_len": profile.max_side,
            "Det.limit_side_len": profile.det_side,
            # Not used to make sessions (they are ours), but says what was asked for.
            "EngineConfig.onnxruntime.use_cuda": device == "gpu",
        }
    )
    with flag_override(engine.cfg, "allow_objects", True):
        engine.cfg.Det.session = loaded[DET].inference
        engine.cfg.Rec.session = loaded[REC].inference
        if CLS in loaded:
            engine.cfg.Cls.session = loaded[CLS].inference
    return engine


def box_of(quad: np.ndarray) -> list[int]:
    """[x, y, w, h] around a polygon of (x, y) points, whole pixels outward."""
    x0, y0 = np.floor(quad.min(axis=0))
    x1, y1 = np.ceil(quad.max(axis=0))
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def _words(text: str, found: Any) -> list[dict[str, Any]]:
    """rapidocr's word boxes for a line, if they spell the line (else none: its word
    results are dropped per line when empty, so they may not line up with the lines)."""
    words: list[dict[str, Any]] = [
        {
            "text": str(word),
            "confidence": round(float(score), 4),
            "box": box_of(np.asarray(quad, dtype=np.float64)),
        }
        for word, score, quad in found
        if quad is not None
    ]
    spelled = "".join(w["text"] for w in words)
    return words if spelled.replace(" ", "") == text.replace(" ", "") else []
