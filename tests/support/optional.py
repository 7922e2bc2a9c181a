"""Optional packages the tests compare with: skipped on a reader's machine, required in CI."""

from __future__ import annotations

import os

import pytest


def torch_or_skip():
    """PyTorch, for the comparisons with torch.autograd.

    Not in requirements.txt (``pip install torch==2.13.0`` adds it). CI installs it
    (.ci/run), so there a missing torch fails the run instead of skipping the comparison.
    Works at module level (a module of torch comparisons) and inside a fixture.
    """
    try:
        import torch
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the torch comparisons: .ci/run installs torch==2.13.0",
                        pytrace=False)
        pytest.skip("PyTorch is not installed (pip install torch==2.13.0 adds it)",
                    allow_module_level=True)
    return torch
