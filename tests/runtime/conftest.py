"""A package exported once per test session (a dynamo ONNX export takes several seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.export.factory import build_package


@pytest.fixture(scope="session")
def exported_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid package of the tiny student; tests copy it before modifying anything."""
    return build_package(tmp_path_factory.mktemp("export") / "package")
