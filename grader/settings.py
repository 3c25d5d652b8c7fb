"""Settings, read from ``GRADER_*`` environment variables once, when first asked for."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRADER_", extra="ignore")

    exercises_dir: Path = PROJECT_ROOT / "exercises"
    reference_dir: Path = PROJECT_ROOT / "reference"
    data_dir: Path = PROJECT_ROOT / "data"
    scratch_dir: Path | None = Field(
        default=None,
        description="Where children get their scratch folders; a new temp dir if unset",
    )
    slots: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    sandbox_base_uid: int = Field(default=61000, ge=1000, le=2**31 - 1024)


@lru_cache
def get_settings() -> Settings:
    return Settings()
