"""tinytorch.accelerator: picking the device as current PyTorch programs do."""

import pytest

import tinytorch


def test_the_idiom_of_the_examples_picks_a_usable_device():
    device = tinytorch.accelerator.current_accelerator().type if tinytorch.accelerator.is_available() else "cpu"
    x = tinytorch.ones(2, device=device)
    assert x.device.type == device
    assert tinytorch.accelerator.device_count() == tinytorch.cuda.device_count()
    assert tinytorch.accelerator.is_available() == (tinytorch.accelerator.device_count() > 0)


def test_current_accelerator_names_cuda_whenever_cupy_is_installed():
    accelerator = tinytorch.accelerator.current_accelerator()
    if tinytorch._backend.cupy is None:
        assert accelerator is None
    else:
        assert accelerator == tinytorch.device("cuda") and accelerator.index is None
    available = tinytorch.accelerator.current_accelerator(check_available=True)
    assert (available is not None) == tinytorch.accelerator.is_available()


def test_without_an_accelerator_device_calls_raise_as_pytorch():
    if tinytorch.accelerator.is_available():
        assert tinytorch.accelerator.current_device_index() == 0
        tinytorch.accelerator.synchronize()
        tinytorch.accelerator.synchronize("cuda:0")
        assert tinytorch.accelerator.memory_reserved() >= tinytorch.accelerator.memory_allocated() >= 0
        return
    for call in (tinytorch.accelerator.synchronize, tinytorch.accelerator.current_device_index,
                 tinytorch.accelerator.empty_cache, tinytorch.accelerator.memory_allocated):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available"):
            call()


def test_names_are_pytorchs():
    torch = pytest.importorskip("torch")
    ours = {n for n in dir(tinytorch.accelerator) if not n.startswith("_")}
    assert ours <= set(dir(torch.accelerator))
