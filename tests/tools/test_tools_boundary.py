"""tools/ is the engine: it never imports Django, DRF or the apps."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"
FORBIDDEN = ("django", "rest_framework", "apps")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_engine_module_imports_the_web_side() -> None:
    files = sorted(TOOLS_DIR.rglob("*.py"))
    assert len(files) >= 8
    offenders = {
        f"{path.relative_to(TOOLS_DIR)}: {name}"
        for path in files
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_loading_every_tool_loads_no_django() -> None:
    code = (
        "import sys; from tools import registry; registry.all_tools(); "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=TOOLS_DIR.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
