from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from consent_audit.manifest import Manifest, load_manifest


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """Every HTTP call must be mocked: an unmocked one fails the test (no real Microsoft)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def manifest() -> Manifest:
    return load_manifest()
