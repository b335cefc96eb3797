"""The catalog as the API shows it: each model with what is installed on this server."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.errors import ApiError
from apps.models.runtime import loaded_by_model
from tools.ai import install
from tools.ai.catalog import ModelSpec, catalog, get, valid_id


def spec_or_error(model_id: str) -> ModelSpec:
    """The catalog entry; 400 for an id that breaks the id rule, 404 for an unknown one."""
    if not valid_id(model_id):
        raise ApiError(
            400,
            "INVALID_MODEL_ID",
            "A model id is words of letters, digits, '_' and '-' joined by single dots",
        )
    spec = get(model_id)
    if spec is None:
        raise ApiError(404, "MODEL_NOT_FOUND", f"Unknown model: {model_id}")
    return spec


def model_json(
    spec: ModelSpec, loaded: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """One model, with the small upscale service's fields (`name`, `description`,
    `supported_scales`: its clients read this same endpoint) and ours. `loaded` is
    runtime.loaded_by_model(), read once for a whole list."""
    root = settings.MODELS_DIR
    where = (loaded_by_model() if loaded is None else loaded).get(spec.id, [])
    state = install.status(root, spec)
    return {
        "id": spec.id,
        "name": spec.id,  # the upscale service's clients send this back as model_name
        "displayName": spec.name,
        "description": spec.description,
        "supported_scales": list(spec.scales),
        "task": spec.task,
        "engine": spec.engine,
        "licence": {"name": spec.licence, "nonCommercial": spec.non_commercial},
        "source": spec.source.kind,
        "tools": list(spec.tools),
        "installed": state == "installed",
        "status": state,
        "install": None if state == "installed" else install.how_to_install(spec),
        "size": spec.size or None,
        "homepage": spec.homepage,
        "loaded": where,
        "files": [
            {
                "name": f.name,
                "sha256": f.sha256,
                "size": f.size,
                "scale": f.scale,
                "url": f.url,
                "status": install.file_status(root, spec, f),
            }
            for f in spec.files
        ],
    }


def listed(task: str | None, scale: int | None) -> list[ModelSpec]:
    return [
        spec
        for spec in catalog().values()
        if (task is None or spec.task == task) and (scale is None or scale in spec.scales)
    ]
