"""Fixtures for the MagicEraser app tests: the tiny LaMa model and a shared live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from live_server import live_server


@pytest.fixture(scope="session")
def tiny_model(lama_reference: Path) -> Path:
    """The reference tiny-lama checkpoint directory (real LaMa architecture, 608 kB)."""
    return lama_reference / "tiny-lama"


@pytest.fixture(scope="module")
def server(tiny_model: Path):
    """One ``magiceraser serve`` process per test module (tiny model, queue of 2, small limits)."""
    with live_server(tiny_model, "--max-pixels", "1000000", "--max-request-mb", "4") as running:
        yield running
