"""DLPack: tensors and other libraries' arrays share memory both ways; a write through one side
shows through the other (the proof that nothing was copied)."""

import numpy as np
import pytest

import tinytorch
from tinytorch.utils import dlpack


def test_numpy_array_to_tensor_shares_memory():
    array = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    tensor = tinytorch.from_dlpack(array)
    assert tensor.dtype == tinytorch.float32 and tensor.shape == (2, 3)
    tensor[0, 1] = 100.0
    assert array[0, 1] == 100.0
    array[1, 2] = -7.0
    assert tensor[1, 2].item() == -7.0


def test_tensor_to_numpy_array_shares_memory():
    tensor = tinytorch.arange(5, dtype=tinytorch.int64)
    array = np.from_dlpack(tensor)
    assert array.dtype == np.int64 and tensor.__dlpack_device__() == (1, 0)
    array[2] = 42
    assert tensor[2].item() == 42
    tensor.add_(1)
    assert array.tolist() == [1, 2, 43, 4, 5]


def test_strided_views_and_bools_keep_their_layout():
    base = tinytorch.arange(12.0).reshape(3, 4)
    view = np.from_dlpack(base.t())
    assert view.shape == (4, 3) and view.strides == (4, 16)  # float32: a transposed view, not a copy
    view[3, 0] = -1.0
    assert base[0, 3].item() == -1.0
    mask = tinytorch.from_dlpack(np.array([True, False]))
    assert mask.dtype == tinytorch.bool and mask.tolist() == [True, False]


def test_capsules_round_trip_writable():
    tensor = tinytorch.zeros(3)
    again = dlpack.from_dlpack(dlpack.to_dlpack(tensor))
    again[1] = 5.0
    assert tensor.tolist() == [0.0, 5.0, 0.0]
    with pytest.raises(AssertionError, match="capsule"):
        tinytorch.from_dlpack(dlpack.to_dlpack(tensor), copy=True)


def test_copy_and_device_arguments():
    array = np.ones(3)
    copied = tinytorch.from_dlpack(array, copy=True)
    copied[0] = 9.0
    assert array[0] == 1.0
    shared = tinytorch.from_dlpack(array, copy=False, device="cpu")
    shared[0] = 9.0
    assert array[0] == 9.0


def test_refusals_are_buffer_and_type_errors():
    with pytest.raises(BufferError, match="require gradient"):
        np.from_dlpack(tinytorch.ones(2, requires_grad=True))
    np.from_dlpack(tinytorch.ones(2, requires_grad=True).detach())  # the way out the message names
    with pytest.raises(BufferError, match="layout"):
        tinytorch.eye(2).to_sparse().__dlpack__()
    with pytest.raises(TypeError, match="__dlpack__"):
        tinytorch.from_dlpack([1, 2])
    with pytest.raises(TypeError, match="complex64"):
        tinytorch.from_dlpack(np.zeros(2, dtype=np.complex64))
    with pytest.raises(TypeError, match="must be Tensor"):
        dlpack.to_dlpack(np.zeros(2))


def test_pytorch_both_ways_zero_copy():
    torch = pytest.importorskip("torch")
    ours = tinytorch.arange(4.0)
    theirs = torch.from_dlpack(ours)
    assert theirs.data_ptr() == ours._data.ctypes.data
    theirs[0] = 10.0
    assert ours[0].item() == 10.0

    source = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    mine = tinytorch.from_dlpack(source)
    assert mine.dtype == tinytorch.float64 and mine._data.ctypes.data == source.data_ptr()
    mine.mul_(2)
    assert source[1, 2].item() == 10.0
    # A PyTorch tensor that requires grad is refused by PyTorch itself, as ours is.
    with pytest.raises(BufferError):
        tinytorch.from_dlpack(torch.ones(2, requires_grad=True))
    # The legacy capsule interface both ways.
    capsule_tensor = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(ours))
    capsule_tensor[1] = -1.0
    assert ours[1].item() == -1.0
    from_capsule = tinytorch.from_dlpack(torch.utils.dlpack.to_dlpack(source))
    assert from_capsule._data.ctypes.data == source.data_ptr()


def test_cupy_both_ways_zero_copy():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed")
    if "fake_cupy" in getattr(cupy, "__file__", "") or not tinytorch.cuda.is_available():
        pytest.skip("needs a real GPU")
    array = cupy.arange(4, dtype=cupy.float32)
    tensor = tinytorch.from_dlpack(array)
    assert tensor.is_cuda
    tensor[0] = 7.0
    assert float(array[0]) == 7.0
    back = cupy.from_dlpack(tensor)
    back[1] = 8.0
    assert tensor[1].item() == 8.0


def test_jax_both_ways():
    jax = pytest.importorskip("jax", reason="JAX is not installed")
    jnp = jax.numpy
    array = jnp.arange(4.0)
    tensor = tinytorch.from_dlpack(array)  # JAX arrays are immutable: the shared address is the proof
    assert tensor.tolist() == [0.0, 1.0, 2.0, 3.0] and tensor._data.ctypes.data == array.unsafe_buffer_pointer()
    # JAX copies what it takes in unless the memory has the alignment XLA wants.
    ours = tinytorch.arange(3.0)
    theirs = jnp.from_dlpack(ours)
    assert theirs.tolist() == [0.0, 1.0, 2.0]
