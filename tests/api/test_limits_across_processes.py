"""One token's limit is one count, whichever `serve` process answers: two real `newsletter
serve` processes on one database share it, and revoking works in both at once."""

from __future__ import annotations

import httpx

from tests.conftest import Project, serve_command


def test_two_serve_processes_share_a_tokens_limit_and_its_revocation(
    ready_project: Project,
) -> None:
    ready_project.edit_config(
        lambda raw: raw.update(rate_limits={"api": {"count": 4, "window_s": 600}})
    )
    made = ready_project.run("api", "tokens", "create", "website", "--scope", "issues:read")
    token = made.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    with serve_command(ready_project) as (first, _), serve_command(ready_project) as (second, _):
        answers = [
            httpx.get(f"{url}/api/v1/health", headers=headers, timeout=10)
            for url in (first, second, first, second, first, second)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 429, 429]
        assert [a.headers["ratelimit"] for a in answers[:4]] == [
            f'"token";r={left};t={t}' for left, t in ((3, 150), (2, 300), (1, 450), (0, 600))
        ]
        assert int(answers[4].headers["retry-after"]) >= 1
        assert answers[4].headers["content-type"] == "application/problem+json"
        other = ready_project.run("api", "tokens", "create", "other", "--scope", "issues:read")
        other_headers = {"Authorization": f"Bearer {other.stdout.strip().splitlines()[-1]}"}
        assert httpx.get(f"{first}/api/v1/health", headers=other_headers).status_code == 200
        ready_project.run("api", "tokens", "revoke", "other")
        for url in (first, second):
            assert httpx.get(f"{url}/api/v1/health", headers=other_headers).status_code == 401
