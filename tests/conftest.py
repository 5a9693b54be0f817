"""Shared fixtures: ``device`` runs a test on the CPU and, when CuPy sees a GPU, on CUDA too."""

import numpy as np
import pytest

import tinytorch

DEVICES = ["cpu"] + (["cuda"] if tinytorch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(autouse=True)
def _seed():
    tinytorch.manual_seed(0)
    np.random.seed(0)
    yield


def torch_or_skip():
    """The torch module when it is installed (the oracle), else skip the calling test."""
    return pytest.importorskip("torch")
