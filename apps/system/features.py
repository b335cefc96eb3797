"""Which AI tools this server is ready to run: their models installed, their engines there.

The AI tools themselves come later; this reports the runtime's readiness for each tool
id the catalog's models name (`tools` in catalog.toml), so the UI and an operator can
see what is missing and the commands that fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.ai import engines, install
from tools.ai.catalog import ModelSpec, catalog


def ai_tool_ids() -> list[str]:
    """Every tool id the catalog names, in the order they first appear there."""
    found: dict[str, None] = {}
    for spec in catalog().values():
        found.update(dict.fromkeys(spec.tools))
    return list(found)


def install_command(spec: ModelSpec) -> str:
    """The command that installs (or repairs) one model."""
    if spec.source.kind == "system":
        return spec.source.hint or f"install the system package that provides {spec.id}"
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


def tool_readiness(root: Path, tool_id: str) -> dict[str, Any]:
    """One tool: its models, whether it can run, and what stands in the way.

    A tool is available when at least one of its models is installed and its engine is
    available. (The AI tools issue will refine this: which model each tool requires, and
    which only add choices.) `missing` names every model of the tool that cannot run
    here and why, and `fix` the commands for them, so an available tool can still list
    models it lacks.
    """
    specs = [spec for spec in catalog().values() if tool_id in spec.tools]
    models = [model_entry(root, spec) for spec in specs]
    missing: list[str] = []
    fixes: list[str] = []
    for spec, model in zip(specs, models, strict=True):
        reasons, commands = _obstacles(root, spec, model)
        missing += reasons
        fixes += [c for c in commands if c not in fixes]
    return {
        "tool": tool_id,
        "available": any(m["installed"] and m["engineAvailable"] for m in models),
        "models": models,
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


def features(root: Path) -> list[dict[str, Any]]:
    """Every AI tool's readiness."""
    return [tool_readiness(root, tool_id) for tool_id in ai_tool_ids()]
