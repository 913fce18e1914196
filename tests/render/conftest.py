"""Fixtures of the renderer tests."""

from __future__ import annotations

import pytest

from synth.renderer import Renderer


@pytest.fixture(scope="module")
def renderer(request):
    """One GL renderer per test module, sized by the module's ``RENDERER`` (Renderer's keyword arguments)."""
    r = Renderer(**request.module.RENDERER)
    yield r
    r.release()
