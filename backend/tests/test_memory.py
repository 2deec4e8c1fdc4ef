"""Allocator tuning for image work."""

import sys

import pytest

from backend.memory import return_large_allocations_to_the_os


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_mallopt_is_accepted_on_glibc():
    assert return_large_allocations_to_the_os() is True
