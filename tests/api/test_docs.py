"""Public API docs: the OpenAPI 3.1 spec, Swagger UI, /llms.txt and /llms-full.txt."""

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tools import registry
from tools.base import Inputs


def tool_ids() -> list[str]:
    """Read at test time, not collection time: a missing tool module fails tests, not import."""
    ids = [tool.id for tool in registry.all_tools()]
    assert ids, "the registry is empty"
    return ids


@pytest.fixture
def spec(anon: Any, db: None) -> dict[str, Any]:
    response = anon.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert isinstance(document, dict)
    return document


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def multipart_schema(document: dict[str, Any], tool_id: str) -> dict[str, Any]:
    operation = document["paths"][f"/api/v1/tools/{tool_id}"]["post"]
    return operation["requestBody"]["content"]["multipart/form-data"]["schema"]


# --- OpenAPI -----------------------------------------------------------------------------


def test_the_openapi_spec_is_public_yaml_of_version_3_1(spec):
    assert str(spec["openapi"]).startswith("3.1")
    assert spec["info"]["title"] == "Pixelsmith API"


def test_the_spec_is_served_even_with_a_garbage_token(client_for, db):
    response = client_for("garbage").get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "path",
    [
        "/api/auth/login",
        "/api/v1/teams",
        "/api/v1/teams/{team_id}",
        "/api/v1/settings",
        "/api/v1/settings/{key}",
        "/api/v1/branding/logo",
        "/api/v1/api-keys",
        "/api/v1/tools",
        "/api/v1/upload",
        "/api/v1/files",
        "/api/v1/files/{file_id}",
        "/api/v1/files/{file_id}/download",
        "/api/v1/files/{file_id}/thumbnail",
    ],
)
def test_the_spec_documents_the_api_routes(spec, path):
    assert path in spec["paths"]


def test_the_spec_has_one_path_per_registered_tool(spec):
    documented = {p.removeprefix("/api/v1/tools/") for p in spec["paths"]}
    missing = set(tool_ids()) - documented
    assert not missing
    assert "/api/v1/tools/resize" in spec["paths"]


def setting_names(schema: dict[str, Any], spec: dict[str, Any] | None = None) -> set[str]:
    """Every field name of a settings schema: its properties, or those of each mode's model
    (settings that are one model per mode are a `oneOf` of `$ref`s)."""
    if "oneOf" not in schema:
        return set(schema.get("properties", {}))
    names: set[str] = set()
    for option in schema["oneOf"]:
        ref = option["$ref"]
        mode = resolve(spec, ref) if spec else schema["$defs"][ref.split("/")[-1]]
        names |= set(mode["properties"])
    return names


def test_each_tools_settings_field_references_its_own_component_schema(spec):
    for tool in registry.all_tools():
        settings_field = multipart_schema(spec, tool.id)["properties"]["settings"]
        assert settings_field["type"] == "string", tool.id
        own, file_id = settings_field["contentSchema"]["allOf"]
        assert resolve(spec, file_id["$ref"])["properties"]["fileId"]["format"] == "uuid"
        component = resolve(spec, own["$ref"])
        expected = setting_names(tool.settings.model_json_schema())
        assert setting_names(component, spec) == expected, tool.id


def test_each_tools_request_names_the_file_fields_it_takes(spec):
    # (required, documented) file fields per kind of input
    fields = {
        Inputs.NONE: (set(), set()),
        Inputs.OPTIONAL: (set(), {"file"}),
        Inputs.ONE: ({"file"}, {"file"}),
        Inputs.TWO: ({"file", "overlay"}, {"file", "overlay"}),
        Inputs.MANY: ({"files"}, {"files"}),
    }
    for tool in registry.all_tools():
        schema = multipart_schema(spec, tool.id)
        required, documented = fields[tool.inputs]
        assert set(schema["required"]) == required, tool.id
        assert set(schema["properties"]) == documented | {"settings"}, tool.id


def test_resize_settings_document_width_and_fit(spec):
    content = multipart_schema(spec, "resize")["properties"]["settings"]["contentSchema"]
    ref = content["allOf"][0]["$ref"]
    properties = resolve(spec, ref)["properties"]
    width = next(o for o in properties["width"]["anyOf"] if o.get("type") == "integer")
    assert (width["minimum"], width["maximum"]) == (1, 16383)
    assert set(properties["fit"]["enum"]) == {"cover", "contain", "fill", "inside", "outside"}


def test_every_reference_in_the_spec_resolves(spec):
    found = list(refs(spec))
    assert "#/components/schemas/Error" in found
    for ref in found:
        resolve(spec, ref)


def test_tool_operations_declare_security_media_types_and_the_async_answer(spec):
    for tool in registry.all_tools():
        operation = spec["paths"][f"/api/v1/tools/{tool.id}"]["post"]
        assert {"apiKey": []} in operation["security"], tool.id
        accepted = operation["responses"]["202"]["content"]["application/json"]["schema"]
        assert accepted["$ref"].endswith("/JobAccepted"), tool.id
        media = set(operation["responses"]["200"]["content"])
        assert "application/octet-stream" not in media, tool.id
    resize = spec["paths"]["/api/v1/tools/resize"]["post"]["responses"]["200"]["content"]
    assert resize["image/*"]["schema"] == {"type": "string", "format": "binary"}
    batch = spec["paths"]["/api/v1/tools/resize/batch"]["post"]
    assert "application/zip" in batch["responses"]["200"]["content"] and batch["security"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"]["scheme"] == "bearer"


def test_the_progress_stream_is_documented_as_server_sent_events(spec):
    operation = spec["paths"]["/api/v1/jobs/{job_id}/progress"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert operation["security"]


def test_the_spec_is_valid_openapi_3_1_with_unique_names(spec):
    """What a linter such as Redocly checks first: the document validates, every
    operation has a unique operationId, and no two component schemas share a title
    (generators name their models by it)."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [str(e)[:300] for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []
    operations = [
        operation.get("operationId")
        for methods in spec["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict)
    ]
    assert None not in operations
    assert len(operations) == len(set(operations))
    titles = [s["title"] for s in spec["components"]["schemas"].values() if "title" in s]
    assert len(titles) == len(set(titles)), sorted(t for t in titles if titles.count(t) > 1)


def test_no_file_answer_is_documented_as_json(spec):
    """A file documented as a JSON string makes generated clients decode it as JSON."""
    binary = {"type": "string", "format": "binary"}
    wrong = [
        (path, code)
        for path, methods in spec["paths"].items()
        for operation in methods.values()
        if isinstance(operation, dict)
        for code, answer in operation.get("responses", {}).items()
        if (answer.get("content") or {}).get("application/json", {}).get("schema") == binary
    ]
    assert wrong == []
    download = spec["paths"]["/api/v1/files/{file_id}/download"]["get"]["responses"]["200"]
    assert set(download["content"]) == {"image/*"}


def test_json_bodies_are_documented_once_as_json(spec):
    body = spec["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json"}


def test_job_and_queue_answers_match_their_documented_schemas(spec, user_client):
    """The job answers are built by hand: their schemas are checked against real ones."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from jsonschema import Draft202012Validator

    from tests.badfiles import FIXTURES

    photo = SimpleUploadedFile("p.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")
    made = user_client.post("/api/v1/tools/resize", {"file": photo, "settings": '{"width": 8}'})
    job_id = made["X-Job-Id"]
    answers = {
        "Job": user_client.get(f"/api/v1/jobs/{job_id}").json(),
        "JobPage": user_client.get("/api/v1/jobs").json(),
        "QueueStatus": user_client.get("/api/v1/queue/status").json(),
    }
    assert answers["JobPage"]["jobs"]
    for model, answer in answers.items():
        schema = {"$ref": f"#/components/schemas/{model}", "components": spec["components"]}
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(answer)]
        assert errors == [], (model, errors)
    operation = spec["paths"]["/api/v1/jobs/{job_id}"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Job"
    }


def test_tool_errors_use_the_documented_error_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "code"}
    responses = spec["paths"]["/api/v1/tools/resize"]["post"]["responses"]
    assert {"200", "400", "403", "413", "429"} <= set(responses)


# --- Swagger UI --------------------------------------------------------------------------


def test_the_interactive_docs_are_a_public_html_page(anon, db):
    response = anon.get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger" in html.lower()
    # The init script (a file of its own, for the Content-Security-Policy) loads the spec.
    script = anon.get("/api/docs?script=").content.decode()
    assert "/api/v1/openapi.yaml" in script


# --- llms.txt ----------------------------------------------------------------------------


def text_of(client: Any, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def test_llms_txt_lists_every_registered_tool(anon, db, settings):
    text = text_of(anon, "/llms.txt")
    assert text.startswith("# Pixelsmith")
    assert settings.VERSION in text
    for tool_id in tool_ids():
        assert f"- `{tool_id}`" in text


def test_llms_full_txt_documents_every_tools_settings_fields(anon, db):
    text = text_of(anon, "/llms-full.txt")
    for tool in registry.all_tools():
        assert f"(`{tool.id}`)" in text
        assert f"/api/v1/tools/{tool.id}" in text
        section = text[text.index(f"(`{tool.id}`)") :]
        section = section[: section.index("\n## ")] if "\n## " in section else section
        for field in setting_names(tool.settings.model_json_schema()):
            assert f"`{field}`" in section, f"{tool.id}.{field} missing"


def test_llms_full_txt_shows_resize_width_and_fit_with_their_choices(anon, db):
    text = text_of(anon, "/llms-full.txt")
    section = text[text.index("(`resize`)") :]
    section = section[: section.index("\n## ")] if "\n## " in section else section
    assert "- `width` (" in section
    fit_line = next(line for line in section.splitlines() if line.startswith("- `fit`"))
    for choice in ("cover", "contain", "fill", "inside", "outside"):
        assert choice in fit_line


def test_llms_files_are_public_even_with_a_garbage_token(client_for, db):
    client = client_for("garbage")
    assert "resize" in text_of(client, "/llms.txt")
    assert "resize" in text_of(client, "/llms-full.txt")
