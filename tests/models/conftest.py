"""Model tests run torch on one intra-op thread.

On this shared 2-core machine two OpenMP threads competing with other processes spin-wait:
a tiny training step measured 1.3 s with 2 threads under load versus ~7 ms with 1 thread.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def _single_torch_thread() -> Iterator[None]:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
