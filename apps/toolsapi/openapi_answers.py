"""OpenAPI schemas of the JSON answers that views build by hand (auth, API keys, files,
tools, models, pipelines, settings, teams, health, system; the compatibility APIs' in
openapi_answers_compat.py), attached by operationId and status in a post-processing hook.

drf-spectacular documents a view's `responses={200: dict}` as a bare object, which a
generated client turns into an untyped dict. Writing the shapes here, beside the other
hooks, keeps them in one place; tests/api/test_docs_answers.py checks each against a
real answer. Limits: `required` lists only what the code always sends, and no schema
forbids extra fields (a view may grow one before its schema does).
"""

from __future__ import annotations

import copy
from typing import Any

from apps.toolsapi.openapi_answers_compat import COMPAT_ANSWERS, COMPAT_SCHEMAS
from apps.toolsapi.openapi_schema_kit import (
    BOOL,
    INT,
    NINT,
    NSTR,
    NTIME,
    STR,
    TIME,
    UUID,
    array,
    obj,
    ref,
)

ANY = {"description": "any JSON value"}
PAGE = {"page": INT, "pageSize": INT, "total": INT, "totalPages": INT}
OWNER = {"type": ["object", "null"], "properties": {"id": UUID, "username": STR}}

USER = obj(
    id=UUID,
    username=STR,
    role=STR,
    team=NSTR,
    teamId={"type": ["string", "null"], "format": "uuid"},
    mustChangePassword=BOOL,
    createdAt=TIME,
)
API_KEY = obj(
    id=UUID,
    name=STR,
    prefix=STR,
    createdAt=TIME,
    lastUsedAt=NTIME,
    _optional={"owner": {**OWNER, "description": "admins' lists only"}},
)
LIBRARY_FILE = {
    "id": UUID,
    "name": STR,
    "size": INT,
    "width": INT,
    "height": INT,
    "format": STR,
    "mediaType": STR,
    "version": INT,
    "versionCount": INT,
    "owner": NSTR,
    "createdAt": TIME,
    "updatedAt": TIME,
    "downloadUrl": STR,
    "thumbnailUrl": STR,
}
PROVENANCE = obj(
    source=STR,
    toolId=NSTR,
    settings={"type": "object"},
    engine=NSTR,
    model=NSTR,
    modelSha256=NSTR,
    device=NSTR,
    appVersion=STR,
    jobId={"type": ["string", "null"], "format": "uuid"},
)
FILE_VERSION = obj(
    number=INT,
    size=INT,
    width=INT,
    height=INT,
    format=STR,
    mediaType=STR,
    createdAt=TIME,
    provenance=ref("FileProvenance"),
)
TOOL = obj(
    id=STR,
    name=STR,
    category=STR,
    description=STR,
    inputs={**STR, "description": "none, optional, one, two or many"},
    output={**STR, "description": "image, images, json or document"},
    device=STR,
    models=array(STR),
    experimental=BOOL,
    takesVideo=BOOL,
    settings={"type": "object", "description": "the settings' JSON schema"},
    enabled=BOOL,
)
MODEL_FILE = obj(name=STR, sha256=NSTR, size=NINT, scale=NINT, url=NSTR, status=STR)
MODEL_FIELDS = {
    "id": STR,
    "name": STR,
    "displayName": STR,
    "description": STR,
    "supported_scales": array(INT),
    "task": STR,
    "engine": STR,
    "licence": obj(name=STR, nonCommercial=BOOL),
    "source": STR,
    "tools": array(STR),
    "installed": BOOL,
    "status": STR,
    "install": NSTR,
    "size": NINT,
    "homepage": NSTR,
    "loaded": array({"type": "object"}),
    "files": array(ref("ModelFileEntry")),
}
STEP = obj(toolId=STR, settings={"type": "object"})
PIPELINE = obj(
    id=UUID,
    name=STR,
    description=STR,
    steps=array(ref("PipelineStep")),
    createdAt=TIME,
    updatedAt=TIME,
    _optional={"owner": {**OWNER, "description": "admins only"}},
)
TEAM = obj(id=UUID, name=STR, isDefault=BOOL, memberCount=NINT, createdAt=TIME)
READINESS = obj(
    tool=STR,
    available=BOOL,
    needs=array(array(STR)),
    models=array(obj(id=STR, installed=BOOL, engine=STR, engineAvailable=BOOL)),
    missing=array(STR),
    fix=array(STR),
)
HARDWARE = obj(
    cpu=obj(model=NSTR, cores=INT, usableCores=INT, architecture=NSTR),
    memory=obj(totalBytes=NINT, availableBytes=NINT, limitBytes=NINT),
    gpus=array(
        obj(
            index=INT,
            name=STR,
            memoryTotalBytes=INT,
            memoryUsedBytes=INT,
            memoryFreeBytes=INT,
            driver=STR,
        )
    ),
    gpuNote=NSTR,
    system=obj(os=STR, python=STR),
    onnxruntime=obj(available=BOOL, version=NSTR, providers=array(STR)),
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "Ok": obj(ok=BOOL),
    "User": USER,
    "LoginAnswer": obj(token=STR, expiresAt=TIME, user=ref("User"), mustChangePassword=BOOL),
    "SessionAnswer": obj(
        user=ref("User"), expiresAt=NTIME, authMethod={**STR, "description": "session or apiKey"}
    ),
    "UserList": obj(users=array(ref("User"))),
    "UserUpdated": obj(ok=BOOL, user=ref("User")),
    "ApiKey": API_KEY,
    "ApiKeyList": obj(apiKeys=array(ref("ApiKey"))),
    "ApiKeyCreated": obj(
        **{k: v for k, v in API_KEY["properties"].items() if k != "owner"},
        key={**STR, "description": "the raw key: shown this once"},
    ),
    "LibraryFile": obj(**LIBRARY_FILE),
    "FileProvenance": PROVENANCE,
    "FileVersion": FILE_VERSION,
    "LibraryFileDetail": obj(**LIBRARY_FILE, versions=array(ref("FileVersion"))),
    "LibraryFilePage": obj(files=array(ref("LibraryFile")), **PAGE),
    "UploadedFiles": obj(files=array(ref("LibraryFile"))),
    "UploadStaged": obj(uploadId=UUID, name=STR, size=INT, expiresAt=TIME),
    "ToolInfo": TOOL,
    "ToolList": obj(tools=array(ref("ToolInfo"))),
    "ModelFileEntry": MODEL_FILE,
    "ModelInfo": obj(**MODEL_FIELDS),
    "ModelList": obj(version=STR, models=array(ref("ModelInfo"))),
    "ModelRemoved": obj(**MODEL_FIELDS, removed=array(STR)),
    "ModelImported": obj(**MODEL_FIELDS, imported=STR),
    "ModelUnloading": obj(model=STR, unloading=BOOL, withinS=INT),
    "PipelineStep": STEP,
    "PipelineInfo": PIPELINE,
    "PipelineList": obj(pipelines=array(ref("PipelineInfo"))),
    "PipelineValidation": obj(valid=BOOL, steps=array(ref("PipelineStep"))),
    "PipelineTools": obj(tools=array(STR), lastOnly=array(STR), firstOnly=array(STR)),
    "SiteSettings": obj(settings={"type": "object", "description": "key: value"}),
    "SiteSettingsUpdated": obj(ok=BOOL, settings={"type": "object"}),
    "SiteSetting": obj(key=STR, value=ANY, updatedAt=NTIME),
    "SiteSettingSet": obj(ok=BOOL, key=STR, value=ANY),
    "TeamInfo": TEAM,
    "TeamList": obj(teams=array(ref("TeamInfo"))),
    "TeamUpdated": obj(ok=BOOL, team=ref("TeamInfo")),
    "Health": obj(status=STR, version=STR, time={**INT, "description": "Unix seconds"}),
    "HealthDown": obj(status=STR, version=STR, database={**STR, "description": "down or busy"}),
    "ToolReadiness": READINESS,
    "SystemFeatures": obj(tools=array(ref("ToolReadiness"))),
    "SystemHardware": HARDWARE,
    "DoctorAnswer": obj(status=STR, checks=array(obj(name=STR, status=STR, detail=STR, fix=NSTR))),
    "JobCancelled": obj(jobId=UUID, status=STR),
    "LogoSet": obj(ok=BOOL, width=INT, height=INT),
}

# Answers that are {"ok": true} and nothing else.
OK_ONLY = (
    "auth_logout_create",
    "auth_change_password_create",
    "auth_users_destroy",
    "auth_users_reset_password_create",
    "api_keys_destroy",
    "files_delete",
    "pipeline_delete",
    "teams_destroy",
    "branding_logo_destroy",
)
# Pipeline runs answer 202 as a tool call does (apps/jobs/responses.accepted).
PIPELINE_RUNS = (
    "pipeline_execute",
    "pipeline_batch",
    "pipeline_saved_execute",
    "pipeline_saved_batch",
)
# (operationId, status) → the component its JSON answer is.
ANSWERS: dict[tuple[str, str], str] = {
    **{(op, "200"): "Ok" for op in OK_ONLY},
    ("auth_login_create", "200"): "LoginAnswer",
    ("auth_session_retrieve", "200"): "SessionAnswer",
    ("auth_users_retrieve", "200"): "UserList",
    ("auth_users_update", "200"): "UserUpdated",
    ("auth_register_create", "201"): "User",
    ("api_keys_retrieve", "200"): "ApiKeyList",
    ("api_keys_create", "201"): "ApiKeyCreated",
    ("files_list", "200"): "LibraryFilePage",
    ("files_get", "200"): "LibraryFileDetail",
    ("files_upload", "201"): "UploadedFiles",
    ("uploads_stage", "201"): "UploadStaged",
    ("tools_list", "200"): "ToolList",
    ("tools_describe", "200"): "ToolInfo",
    ("models_list", "200"): "ModelList",
    ("models_get", "200"): "ModelInfo",
    ("models_delete", "200"): "ModelRemoved",
    ("models_import", "200"): "ModelImported",
    ("models_unload", "202"): "ModelUnloading",
    ("pipeline_list", "200"): "PipelineList",
    ("pipeline_save", "201"): "PipelineInfo",
    ("pipeline_get", "200"): "PipelineInfo",
    ("pipeline_update", "200"): "PipelineInfo",
    ("pipeline_validate", "200"): "PipelineValidation",
    ("pipeline_tools", "200"): "PipelineTools",
    **{(op, "202"): "JobAccepted" for op in PIPELINE_RUNS},
    ("settings_list", "200"): "SiteSettings",
    ("settings_update_many", "200"): "SiteSettingsUpdated",
    ("settings_get", "200"): "SiteSetting",
    ("settings_set", "200"): "SiteSettingSet",
    ("teams_retrieve", "200"): "TeamList",
    ("teams_create", "201"): "TeamInfo",
    ("teams_update", "200"): "TeamUpdated",
    ("health", "200"): "Health",
    ("health", "503"): "HealthDown",
    ("system_features", "200"): "SystemFeatures",
    ("system_hardware", "200"): "SystemHardware",
    ("system_doctor", "200"): "DoctorAnswer",
    ("jobs_cancel", "200"): "JobCancelled",
    ("jobs_cancel", "202"): "JobCancelled",
    ("branding_logo_create", "200"): "LogoSet",
    **COMPAT_ANSWERS,
}
ALL_SCHEMAS = {**SCHEMAS, **COMPAT_SCHEMAS}
# Answers a view sends but does not declare: added with this description.
UNDECLARED = {("jobs_cancel", "202"): "A running job: asked to stop at its next file or tile"}


def _untyped(content: dict[str, Any]) -> bool:
    """A JSON answer documented as a bare object: `responses={200: dict}` gives
    {"type": "object", "additionalProperties": {}}."""
    schema = content.get("application/json", {}).get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return False
    return set(schema) <= {"type", "additionalProperties"} and not schema.get(
        "additionalProperties"
    )


def add_answer_schemas(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Name the hand-built answers' shapes in components and point their operations at
    them. Only bare-object answers are replaced: a view that documents its own answer
    keeps it. Two schemas of one name fail loudly (a reference would go astray)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    # Copies: the spec is built and rendered per request; the tables must stay as written.
    for name, schema in copy.deepcopy(ALL_SCHEMAS).items():
        if schemas.setdefault(name, schema) is not schema:
            raise ValueError(f"a component schema named {name} exists already")
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            answers = operation.get("responses", {})
            for (name, status), description in UNDECLARED.items():
                if name == operation.get("operationId") and status not in answers:
                    bare = {"type": "object", "additionalProperties": {}}
                    answers[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": bare}},
                    }
            for status, answer in answers.items():
                model = ANSWERS.get((operation.get("operationId", ""), str(status)))
                content = answer.get("content") or {}
                if model is not None and _untyped(content):
                    content["application/json"] = {"schema": ref(model)}
    return result
