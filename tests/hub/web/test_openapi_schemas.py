"""The score and fleet endpoints describe their answers in the OpenAPI document."""

from typing import Any

import pytest
from fastapi import FastAPI

TYPED = ["/api/overview", "/api/locations/{location_id}", "/api/compare", "/api/fleet"]


def _resolved(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@pytest.mark.parametrize("path", TYPED)
def test_the_answer_has_a_schema_with_its_fields(web_app: FastAPI, path: str) -> None:
    document = web_app.openapi()
    answer = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema = _resolved(document, answer["schema"])
    if schema.get("type") == "array":
        schema = _resolved(document, schema["items"])
    assert schema.get("type") == "object"
    assert schema.get("properties"), f"{path} answers an object of any shape"
    assert "additionalProperties" not in schema


def test_the_location_view_is_typed_all_the_way_down(web_app: FastAPI) -> None:
    document = web_app.openapi()
    location = document["components"]["schemas"]["LocationOut"]["properties"]
    heatmap = _resolved(document, location["heatmap"])
    cell = _resolved(document, heatmap["properties"]["cells"]["items"]["items"])
    assert set(cell["properties"]) == {"responses", "happy_index", "negative_share"}
    summary = _resolved(document, location["summary"])
    assert {"responses", "counts", "happy_index", "observed", "passersby"} <= set(
        summary["properties"]
    )
