"""Fixtures that build a real project on disk: config.yaml, content folder, SQLite file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from pipeline import db
from pipeline.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
NEWSLETTER = str(Path(sys.executable).with_name("newsletter"))


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

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the real `newsletter` command in the project folder."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
        result = subprocess.run(
            [NEWSLETTER, *args, "--config", str(self.config_path)],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"newsletter {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result


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
