"""Tokens as a caller meets them: 401 without a valid one, 403 without the scope, revocation
at once, and the CLI that makes them printing the token once and storing only its hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from pipeline.api_tokens import revoke_token
from pipeline.db import api_tokens
from tests.api.conftest import Api
from tests.conftest import Project


def test_no_wrong_and_revoked_tokens_get_the_same_401(api: Api) -> None:
    token = api.token("issues:read", name="reader")
    with api.client(token) as client:
        assert client.get("/health").json()["version"]
    revoke_token(api.site.engine, "reader", datetime.now(UTC))
    answers = [
        api.client().get("/health", headers=headers)
        for headers in (
            {"Authorization": f"Bearer {token}"},  # revoked
            {"Authorization": f"Bearer {token[:-1]}x"},  # wrong
            {"Authorization": "Bearer nlapi_"},
            {"Authorization": "Basic dXNlcjpwYXNz"},
        )
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    # Nothing tells a revoked token from a wrong one.
    assert len({answer.text for answer in answers}) == 1
    # A missing header on an open endpoint is fine: the version is just left out.
    assert api.client().get("/health").json()["version"] is None


def test_a_token_without_the_scope_gets_403(sqlite_api: Api) -> None:
    token = sqlite_api.token("subscribers:signup")
    with sqlite_api.client(token) as client:
        answer = client.get("/health")
        assert answer.status_code == 200
        document = client.get("/openapi.json").json()
    guarded = [
        (path, method)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") and {} not in operation["security"]
    ]
    for path, method in guarded:
        scopes = {
            s for r in document["paths"][path][method]["security"] for v in r.values() for s in v
        }
        if "subscribers:signup" in scopes:
            continue
        concrete = path.replace("{", "").replace("}", "")
        refused = sqlite_api.client(token).request(method, concrete, json={})
        assert refused.status_code in (403, 404, 422), (method, path, refused.text)


def test_the_cli_prints_the_token_once_and_keeps_only_its_hash(ready_project: Project) -> None:
    made = ready_project.run("api", "tokens", "create", "website", "--scope", "subscribers:signup")
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("nlapi_") and len(token) > 40
    listed = ready_project.run("api", "tokens", "list", "--json")
    assert token not in listed.stdout
    (row,) = json.loads(listed.stdout)
    assert row["name"] == "website" and row["scopes"] == ["subscribers:signup"]
    with ready_project.engine().connect() as connection:
        stored = connection.execute(sa.select(api_tokens)).one()
    assert token not in str(tuple(stored))
    refused = ready_project.run(
        "api", "tokens", "create", "other", "--scope", "subscriber:write", check=False
    )
    assert refused.returncode != 0
    assert "unknown scope subscriber:write" in refused.stderr
    assert "subscribers:write" in refused.stderr
    again = ready_project.run(
        "api", "tokens", "create", "website", "--scope", "items:read", check=False
    )
    assert "exists; revoke it first" in again.stderr
    ready_project.run("api", "tokens", "revoke", "website")
    assert json.loads(ready_project.run("api", "tokens", "list", "--json").stdout)[0]["revoked_at"]


def test_an_api_path_the_mount_does_not_match_is_still_a_problem(sqlite_api: Api) -> None:
    with sqlite_api.client(sqlite_api.token("subscribers:read")) as client:
        answer = client.get("/subscribers/%0Ax")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
