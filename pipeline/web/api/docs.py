"""`GET /api/v1/docs`: the API's reference as one plain HTML page, made from its OpenAPI
document (no CDN, no script: readable in any browser and by a screen reader)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pipeline.web.pages import render_page

router = APIRouter()
METHODS = ("get", "post", "put", "patch", "delete")


def _type(schema: dict[str, Any]) -> str:
    """A schema in a few words: `string`, `list of Subscriber`, `integer or null`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, methods in document.get("paths", {}).items():
        for method in METHODS:
            operation = methods.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            found.append(
                {
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "scopes": [
                        scope
                        for requirement in operation.get("security", [])
                        for scopes in requirement.values()
                        for scope in scopes
                    ],
                    "parameters": [
                        {
                            "name": parameter["name"],
                            "in": parameter["in"],
                            "type": _type(parameter.get("schema", {})),
                            "required": parameter.get("required", False),
                            "description": parameter.get("description", ""),
                        }
                        for parameter in operation.get("parameters", [])
                    ],
                    "body": _type(body["schema"]) if body else None,
                    "responses": [
                        (status, response.get("description", ""))
                        for status, response in operation.get("responses", {}).items()
                    ],
                }
            )
    return found


def schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        found.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "fields": [
                    {
                        "name": field,
                        "type": _type(spec),
                        "required": field in required,
                        "description": spec.get("description", ""),
                    }
                    for field, spec in schema.get("properties", {}).items()
                ],
            }
        )
    return found


@router.get("/docs", include_in_schema=False, response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    document = request.app.openapi()
    values = {
        "document": document,
        "operations": operations(document),
        "schemas": schemas(document),
    }
    return render_page(request, "api_docs.html.j2", "en", values)
