"""``import tinytorch`` stays light: the parts most programs never use load at first use."""

import subprocess
import sys

import pytest

import tinytorch


def _in_a_fresh_process(code):
    """The lines ``code`` prints in a new interpreter, where nothing has imported tinytorch yet."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")


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
    out = _in_a_fresh_process(code)
    assert out[0] == "[]"
    assert out[1] == "Normal is_available export tinytorch.viz DistributedDataParallel Queue"
    assert out[2] == "True True"
    assert out[3] == "True profile assert_close sparse_mm is_compiling"
    assert out[4] == "AveragedModel True"
    assert out[5] == "resnet18 make_grid read_image tinytorch.vision.ops True"
    with pytest.raises(AttributeError, match="module 'tinytorch' has no attribute 'no_such_thing'"):
        tinytorch.no_such_thing  # noqa: B018


def test_schedulers_lbfgs_autograd_functional_rnn_transformer_and_threadpoolctl_load_at_first_use():
    """``optim.lr_scheduler``, ``optim.LBFGS``, ``autograd.functional``, nn's recurrent,
    transformer and lazy layers, ``SyncBatchNorm``, the adaptive softmax and threadpoolctl (behind
    ``get_num_threads``/``set_num_threads``) stay unloaded until used, and then work as before."""
    code = (
        "import sys, tinytorch\n"
        "lazy = ['tinytorch.optim.lr_scheduler', 'tinytorch.optim.lbfgs', 'tinytorch.autograd.functional', 'threadpoolctl',\n"
        "        'tinytorch.nn.modules.rnn', 'tinytorch.nn.modules.transformer', 'tinytorch.nn.modules.lazy',\n"
        "        'tinytorch.nn.modules.batchnorm_sync', 'tinytorch.nn.modules.adaptive']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "from tinytorch.optim.lr_scheduler import StepLR\n"
        "from tinytorch.optim import lr_scheduler, LBFGS\n"
        "print(StepLR is lr_scheduler.StepLR is tinytorch.optim.lr_scheduler.StepLR, LBFGS.__module__,\n"
        "      hasattr(tinytorch.optim, 'lbfgs'), all(n in dir(tinytorch.optim) for n in ('LBFGS', 'lr_scheduler')))\n"
        "print(tinytorch.autograd.functional.jacobian.__name__, 'functional' in dir(tinytorch.autograd))\n"
        "tinytorch.set_num_threads(1)\n"
        "print(tinytorch.get_num_threads())\n"
        "from tinytorch.nn import GRU, LazyLinear\n"
        "nn = tinytorch.nn\n"
        "print(nn.LSTM.__module__, nn.TransformerEncoderLayer.__module__, GRU is nn.GRU, LazyLinear.__name__,\n"
        "      nn.SyncBatchNorm.__name__, nn.AdaptiveLogSoftmaxWithLoss.__name__, 'LSTM' in dir(nn))\n"
        "out, h = tinytorch.rnn_tanh(tinytorch.zeros(2, 1, 3), tinytorch.zeros(1, 1, 4),\n"
        "                            [tinytorch.ones(4, 3), tinytorch.ones(4, 4)], False, 1, 0.0, False, False, False)\n"
        "print(tuple(out.shape))\n"
    )
    out = _in_a_fresh_process(code)
    assert out[0] == "[]"
    assert out[1] == "True tinytorch.optim.lbfgs False True"
    assert out[2] == "jacobian True"
    assert out[3] == "1"
    assert out[4] == "tinytorch.nn.modules.rnn tinytorch.nn.modules.transformer True LazyLinear SyncBatchNorm " \
                     "AdaptiveLogSoftmaxWithLoss True"
    assert out[5] == "(2, 1, 4)"
    with pytest.raises(AttributeError, match="module 'tinytorch.optim' has no attribute 'no_such_optimizer'"):
        tinytorch.optim.no_such_optimizer  # noqa: B018
    with pytest.raises(AttributeError, match="module 'tinytorch.nn' has no attribute 'NoSuchLayer'"):
        tinytorch.nn.NoSuchLayer  # noqa: B018
