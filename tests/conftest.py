"""Fixtures that build a real project on disk: config.yaml, content folder, SQLite file."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from pipeline import cli, db
from pipeline.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))
# What the tests' commands sign with: an operator's key, set in the environment as in production.
TEST_SECRET_KEY = "test-secret-key-of-the-command-line-tests"
POSTGRES_ADMIN_URL = os.environ.get(
    "NEWSLETTER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Project:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config.yaml"

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    def config(self) -> Config:
        return load_config(self.config_path)

    def engine(self) -> sa.Engine:
        return db.make_engine(self.config().database.url)

    def edit_config(self, change: Callable[[dict[str, object]], None]) -> None:
        raw = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        change(raw)
        self.config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")

    def run(
        self,
        *args: str,
        check: bool = True,
        in_process: bool = True,
        secrets: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `newsletter ARGS --config <this project>` from the project folder.

        In this process by default (the same `main`, without ~1 s of start-up per call);
        `in_process=False` starts the installed console script. `secrets` replaces the
        NEWSLETTER_ variables (by default the tests' signing key alone).
        """
        argv = [*args, "--config", str(self.config_path)]
        environment = command_environment(secrets)
        run = _run_in_process if in_process else _run_process
        result = run(argv, self.root, environment)
        if check and result.returncode != 0:
            raise AssertionError(
                f"newsletter {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


def command_environment(secrets: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment with its NEWSLETTER_ settings replaced by `secrets`, by
    default the tests' signing key alone."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    kept["COLUMNS"] = "80"  # a terminal as wide as a pipe's default, whoever runs the tests
    return kept | ({"NEWSLETTER_SECRET_KEY": TEST_SECRET_KEY} if secrets is None else secrets)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_relay(handler: object) -> Iterator[int]:
    """aiosmtpd serving `handler` on 127.0.0.1 and a free port, which it yields."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextlib.contextmanager
def serve_command(
    project: Project, *extra: str, secrets: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """The real command, `newsletter serve`, as an operator starts it, on a free port;
    yields its URL once /healthz answers, and the process (its output in `stdout`)."""
    port = free_port()
    process = subprocess.Popen(
        [NEWSLETTER, "serve", "--port", str(port), "--config", str(project.config_path), *extra],
        cwd=project.root,
        env=command_environment(secrets),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "newsletter serve did not answer"
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=15)


def _run_process(
    argv: list[str], cwd: Path, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSLETTER, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def _run_in_process(
    argv: list[str], cwd: Path, environment: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    saved_environment = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    saved_umask = os.umask(0o077)  # `main` sets its own; the tests' process keeps theirs
    code = 0
    try:
        with (
            contextlib.chdir(cwd),
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(stderr),
        ):
            cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        os.umask(saved_umask)
    return subprocess.CompletedProcess(
        [NEWSLETTER, *argv], code, stdout.getvalue(), stderr.getvalue()
    )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the demo project (config, sample content, sample subscribers) in a temp folder."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "config.yaml", root / "config.yaml")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy(REPO / "subscribers" / "sample.csv", root / "subscribers.csv")
    return Project(root)


@pytest.fixture
def ready_project(project: Project) -> Project:
    """The demo project with its database created, subscribers imported, content collected."""
    project.run("db", "upgrade")
    project.run(
        "subscribers", "import", "subscribers.csv", "--apply", "--consent-given-by", "tests"
    )
    project.run("collect")
    return project


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database of its own on the local server, dropped afterwards."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"newsletter_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on both engines: a SQLite file and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """A migrated store on each engine: a SQLite file and a fresh PostgreSQL database."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()
