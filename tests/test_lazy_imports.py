"""``import tinytorch`` stays light: the parts most programs never use load at first use."""

import subprocess
import sys

import pytest

import tinytorch


def test_optional_parts_load_at_first_use():
    """``import tinytorch`` leaves the subpackages most programs never use (and the standard
    library's network and archive modules) unloaded; attribute access loads them."""
    code = (
        "import sys, tinytorch\n"
        "lazy = ['tinytorch.distributed', 'tinytorch.distributions', 'tinytorch.onnx', 'tinytorch.viz',\n"
        "        'tinytorch.multiprocessing', 'multiprocessing', 'socket', 'subprocess',\n"
        "        'tinytorch.nn.parallel.distributed', 'urllib.request', 'ssl', 'tarfile', 'safetensors',\n"
        "        'tinytorch.func', 'tinytorch.profiler', 'tinytorch.testing', 'tinytorch.sparse', 'tinytorch.compiler',\n"
        "        'tinytorch.vision.models', 'tinytorch.vision.io', 'tinytorch.vision.ops', 'tinytorch.vision.utils',\n"
        "        'tinytorch.optim.swa_utils']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "print(tinytorch.distributions.Normal.__name__, tinytorch.distributed.is_available.__name__,\n"
        "      tinytorch.onnx.export.__name__, tinytorch.viz.__name__,\n"
        "      tinytorch.nn.parallel.DistributedDataParallel.__name__, tinytorch.multiprocessing.Queue.__name__)\n"
        "print(all(m in dir(tinytorch) for m in ('distributed', 'distributions', 'onnx', 'viz', 'multiprocessing')),\n"
        "      'DistributedDataParallel' in dir(tinytorch.nn.parallel))\n"
        "print(tinytorch.vmap is tinytorch.func.vmap, tinytorch.profiler.profile.__name__, tinytorch.testing.assert_close.__name__,\n"
        "      tinytorch.sparse.mm.__name__, tinytorch.compiler.is_compiling.__name__)\n"
        "from tinytorch.vision import models, utils\n"
        "print(tinytorch.optim.swa_utils.AveragedModel.__name__, 'swa_utils' in dir(tinytorch.optim))\n"
        "print(models.resnet18.__name__, utils.make_grid.__name__, tinytorch.vision.io.read_image.__name__,\n"
        "      tinytorch.vision.ops.__name__, all(m in dir(tinytorch.vision) for m in ('io', 'models', 'ops', 'utils')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "Normal is_available export tinytorch.viz DistributedDataParallel Queue"
    assert out[2] == "True True"
    assert out[3] == "True profile assert_close sparse_mm is_compiling"
    assert out[4] == "AveragedModel True"
    assert out[5] == "resnet18 make_grid read_image tinytorch.vision.ops True"
    with pytest.raises(AttributeError, match="module 'tinytorch' has no attribute 'no_such_thing'"):
        tinytorch.no_such_thing  # noqa: B018
