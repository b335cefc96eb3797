"""Naming, on a tool's output, every engine and model that produced it.

An AI tool may run several models (passport-photo: a face detector and a segmenter) and
classical steps besides. Each run is recorded as a `Run` (a model session's `describe()`
has the same fields); `credit` writes them onto the Output, in the order they ran:
`engine` and `model` joined with ", ", `model_sha256` likewise (one per model), and
`device` the one device, or "gpu, cpu" when they differ. `extras["runs"]` keeps the
per-run details for the JSON info and provenance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tools.base import Output


@dataclass(frozen=True)
class Run:
    """One engine run: a model (with its sha256) or a classical algorithm (model None)."""

    engine: str
    model: str | None = None
    sha256: str | None = None
    device: str = "cpu"

    @classmethod
    def of(cls, described: Mapping[str, Any]) -> Run:
        """From a session's describe(): {engine, model, modelSha256, device}."""
        return cls(
            engine=str(described["engine"]),
            model=described.get("model"),
            sha256=described.get("modelSha256"),
            device=str(described.get("device") or "cpu"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "model": self.model,
            "modelSha256": self.sha256,
            "device": self.device,
        }


def _unique(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def credit(output: Output, runs: Iterable[Run | Mapping[str, Any]]) -> Output:
    """The output, naming what ran (Runs, or session describe() dicts)."""
    done = [r if isinstance(r, Run) else Run.of(r) for r in runs]
    if not done:
        return output
    models = [r for r in done if r.model]
    return replace(
        output,
        engine=", ".join(_unique(r.engine for r in done)),
        model=", ".join(_unique(r.model for r in models)) or None,
        model_sha256=", ".join(_unique(r.sha256 for r in models)) or None,
        device=", ".join(_unique(r.device for r in done)),
        extras={**output.extras, "runs": [r.as_dict() for r in done]},
    )
