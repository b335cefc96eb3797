"""Which AI tools this server is ready to run: their models installed, their engines there.

A registered tool declares the models it may use (`Tool.models`) and what a run needs of
them (`Tool.model_needs()`: groups, each met by any one installed model whose engine is
available). A tool is available when every group is met: enhance-faces needs a face
detector *and* a face-restore model; erase-object needs nothing (OpenCV inpaints without
LaMa) and lists LaMa as a better choice. Tool ids that the catalog names but no module
registers yet (video-upscale) are reported from the catalog: any one of their models.
`missing` says why each model that cannot run here cannot, and `fix` the commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools import registry
from tools.ai import engines, install
from tools.ai.catalog import ModelSpec, catalog


def hardware() -> dict[str, Any]:
    """CPU, memory and GPUs (NVML), and the execution providers onnxruntime offers here:
    GET /api/v1/system/hardware and the MCP server's gpu_status."""
    onnxruntime = engines.check("onnxruntime")
    return {
        **engines.hardware(),
        "onnxruntime": {
            "available": onnxruntime.available,
            "version": onnxruntime.version,
            "providers": engines.onnxruntime_providers(),
        },
    }


def ai_tool_ids() -> list[str]:
    """Registered tools that use models, then tool ids only the catalog names."""
    found = dict.fromkeys(t.id for t in registry.all_tools() if t.models)
    for spec in catalog().values():
        found.update(dict.fromkeys(spec.tools))
    return list(found)


def install_command(spec: ModelSpec) -> str:
    """The command that installs (or repairs) one model."""
    if spec.source.kind == "system":
        return spec.source.hint or f"install the system package that provides {spec.id}"
    if spec.source.kind == "download":
        return f"POST /api/v1/models/{spec.id}/download (or manage.py models install {spec.id})"
    # Installing again replaces a damaged file: the installer re-checks every sha256.
    return f"manage.py models install {spec.id}"


def model_entry(root: Path, spec: ModelSpec) -> dict[str, Any]:
    engine = engines.check(spec.engine)
    return {
        "id": spec.id,
        "installed": install.status(root, spec) == "installed",
        "engine": spec.engine,
        "engineAvailable": engine.available,
    }


def _needs(tool_id: str) -> tuple[list[str], tuple[tuple[str, ...], ...]]:
    """(the tool's models, its need groups), from its registration or else the catalog."""
    tool = registry.get(tool_id)
    if tool is not None:
        return list(tool.models), tool.model_needs()
    named = tuple(spec.id for spec in catalog().values() if tool_id in spec.tools)
    return list(named), (named,)


def tool_readiness(root: Path, tool_id: str) -> dict[str, Any]:
    """One tool: its models, whether it can run, and what stands in the way."""
    model_ids, needs = _needs(tool_id)
    specs = [catalog()[m] for m in model_ids if m in catalog()]
    models = {spec.id: model_entry(root, spec) for spec in specs}

    def usable(model_id: str) -> bool:
        entry = models.get(model_id)
        return bool(entry and entry["installed"] and entry["engineAvailable"])

    missing = [f"model {m} is not in this server's catalog" for m in model_ids if m not in models]
    fixes: list[str] = []
    for spec in specs:
        reasons, commands = _obstacles(root, spec, models[spec.id])
        missing += reasons
        fixes += [c for c in commands if c not in fixes]
    return {
        "tool": tool_id,
        "available": all(any(usable(m) for m in group) for group in needs),
        "needs": [list(group) for group in needs],
        "models": list(models.values()),
        "missing": missing,
        "fix": fixes,
    }


def _obstacles(root: Path, spec: ModelSpec, model: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Why one model cannot run here (human reasons) and the commands that fix it."""
    reasons: list[str] = []
    commands: list[str] = []
    if not model["installed"]:
        state = install.status(root, spec)
        problem = "is damaged (wrong sha256)" if state == "corrupt" else "is not installed"
        reasons.append(f"model {spec.id} {problem}")
        commands.append(install_command(spec))
    if not model["engineAvailable"]:
        engine = engines.check(spec.engine)
        reasons.append(f"model {spec.id} needs the {spec.engine} engine: {engine.detail}")
        if engine.fix:
            commands.append(engine.fix)
    return reasons, commands


def features(root: Path, tool_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Every AI tool's readiness."""
    return [tool_readiness(root, tool_id) for tool_id in (tool_ids or ai_tool_ids())]
