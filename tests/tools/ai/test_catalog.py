"""tools.ai.catalog: the shipped catalog is well formed, and a malformed one fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import registry
from tools.ai import catalog as catalog_module
from tools.ai.catalog import CatalogError, catalog, valid_id


@pytest.mark.parametrize(
    "model_id", ["u2netp", "realesrgan-x4plus", "a.b", "GFPGAN_v1.4", "x-1.2.3"]
)
def test_good_ids(model_id):
    assert valid_id(model_id)


@pytest.mark.parametrize(
    "model_id", ["", "a..b", ".hidden", "trail.", "x/y", "a b", "..", "../etc", "é", "a" * 101]
)
def test_bad_ids(model_id):
    assert not valid_id(model_id)


def test_every_shipped_model_is_pinned_and_says_what_serves_each_scale():
    models = catalog()
    assert {"u2netp", "realesrgan-x4plus", "realesr-animevideov3", "ppocr-v6-det"} <= set(models)
    for spec in models.values():
        assert valid_id(spec.id) and spec.name and spec.description and spec.licence
        if spec.source.kind == "package":
            assert spec.source.package and "==" in spec.source.package, spec.id
            assert all(f.sha256 and len(f.sha256) == 64 for f in spec.files), spec.id
        if spec.task == "upscale":
            assert {f.scale for f in spec.files} == set(spec.scales), spec.id
            for scale in spec.scales:
                assert spec.file_for_scale(scale) is not None


def test_the_seed_upscale_service_names_are_catalog_ids():
    """Clients of the small upscale service send these as model_name."""
    models = catalog()
    assert models["realesrgan-x4plus"].scales == (4,)
    assert models["realesr-animevideov3"].scales == (2, 3, 4)


def test_tools_named_by_models_are_real_tool_ids_or_announced_ai_tools():
    announced = {"video-upscale"}  # the video issue's tool
    known = {t.id for t in registry.all_tools()} | announced
    for spec in catalog().values():
        assert set(spec.tools) <= known, spec.id


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('id = "a..b"', "bad model id"),
        ('id = "m"\nfiles = [{ name = "x.onnx", member = "x" }]', "a sha256 is required"),
        ('id = "m"\nfiles = [{ name = "../x", sha256 = "' + "0" * 64 + '" }]', "bad file name"),
    ],
)
def test_a_malformed_catalog_fails_loudly(tmp_path: Path, monkeypatch, toml, problem):
    defaults = {
        "name": '"n"', "description": '"d"', "task": '"t"', "engine": '"onnxruntime"',
        "licence": '"MIT"', "source": '{ kind = "package", package = "p==1" }',
        "files": '[{ name = "x.onnx", member = "x", sha256 = "' + "0" * 64 + '" }]',
    }  # fmt: skip
    lines = dict(line.split(" = ", 1) for line in toml.splitlines())
    entry = "\n".join(f"{k} = {v}" for k, v in {**defaults, **lines}.items())
    bad = tmp_path / "catalog.toml"
    bad.write_text(f"[[model]]\n{entry}\n")
    monkeypatch.setattr(catalog_module, "CATALOG_FILE", bad)
    catalog.cache_clear()
    try:
        with pytest.raises(CatalogError, match=problem):
            catalog()
    finally:
        catalog.cache_clear()


def test_a_duplicate_id_fails_loudly(tmp_path: Path, monkeypatch):
    entry = (
        '[[model]]\nid = "m"\nname = "n"\ndescription = "d"\ntask = "t"\nengine = "e"\n'
        'licence = "MIT"\nsource = { kind = "system", path = "/x" }\nfiles = [{ name = "x" }]\n'
    )
    bad = tmp_path / "catalog.toml"
    bad.write_text(entry + entry)
    monkeypatch.setattr(catalog_module, "CATALOG_FILE", bad)
    catalog.cache_clear()
    try:
        with pytest.raises(CatalogError, match="twice"):
            catalog()
    finally:
        catalog.cache_clear()
