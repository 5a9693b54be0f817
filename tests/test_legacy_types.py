"""Legacy tensor types (``FloatTensor``...), ``Tensor.type``, the ``is_*`` flags, range indexing,
``tinytorch.backends`` and the default device, against PyTorch."""

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

TYPES = ["DoubleTensor", "FloatTensor", "HalfTensor", "ByteTensor", "CharTensor", "ShortTensor",
         "IntTensor", "LongTensor", "BoolTensor"]
DTYPES = ["float64", "float32", "float16", "uint8", "int8", "int16", "int32", "int64", "bool"]


def same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("data", [[1, 0, 2], [1.7, -2.5], [[True, False]], np.array([3, 4], dtype=np.int32), (2, 3)])
def test_constructors_from_data_match_pytorch(name, data):
    if name in ("ByteTensor", "BoolTensor") and isinstance(data, list) and data == [1.7, -2.5]:
        data = [1.7, 2.5]  # negative floats into uint8 wrap differently in C and NumPy
    same(getattr(tinytorch, name)(data), getattr(torch, name)(data))


@pytest.mark.parametrize("name", TYPES)
def test_constructors_from_sizes_match_pytorch(name):
    for args in [(2, 3), (0,), (), (4,)]:
        ours, theirs = getattr(tinytorch, name)(*args), getattr(torch, name)(*args)
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype)[10:] == str(theirs.dtype)[6:]
    assert tuple(getattr(tinytorch, name)(tinytorch.Size([2, 2])).shape) == (2, 2)
    assert tuple(tinytorch.Tensor(tinytorch.Size([2, 3])).shape) == tuple(torch.Tensor(torch.Size([2, 3])).shape)


def test_a_tensor_of_the_type_is_returned_itself_and_another_refused():
    x = tinytorch.zeros(2)
    assert tinytorch.FloatTensor(x) is x
    with pytest.raises(TypeError, match="expected tinytorch.FloatTensor"):
        tinytorch.FloatTensor(tinytorch.tensor([1, 2]))
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))


def test_bad_arguments_raise_pytorchs_errors():
    for args, kwargs in [((2.5,), {}), (("a",), {}), ((2,), {"device": "cuda"})]:
        with pytest.raises(Exception) as theirs:
            torch.FloatTensor(*args, **kwargs)
        with pytest.raises(theirs.type):
            tinytorch.FloatTensor(*args, **kwargs)
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but device type: cuda was passed"):
        tinytorch.LongTensor(2, device="cuda")


@pytest.mark.parametrize("dtype", DTYPES)
def test_isinstance_asks_for_the_dtype_and_device(dtype):
    ours = tinytorch.zeros(2, dtype=getattr(tinytorch, dtype))
    theirs = torch.zeros(2, dtype=getattr(torch, dtype))
    for name in TYPES:
        assert isinstance(ours, getattr(tinytorch, name)) == isinstance(theirs, getattr(torch, name)), name
        assert not isinstance(ours, getattr(tinytorch.cuda, name))
    assert isinstance(ours, tinytorch.Tensor)
    assert not isinstance(np.zeros(2), tinytorch.FloatTensor)


def test_types_are_not_tensor_subclasses_and_carry_their_dtype():
    for name in TYPES:
        ours, theirs = getattr(tinytorch, name), getattr(torch, name)
        assert issubclass(ours, tinytorch.Tensor) == issubclass(theirs, torch.Tensor)
        assert str(ours.dtype)[10:] == str(theirs.dtype)[6:]
        assert ours.is_cuda is False and ours.is_sparse is False
        assert getattr(tinytorch.cuda, name).is_cuda is True
        assert repr(ours) == repr(theirs).replace("torch.", "tinytorch.")


@pytest.mark.parametrize("target", ["LongTensor", "IntTensor", "DoubleTensor", "BoolTensor", "FloatTensor"])
def test_type_converts_to_a_type_its_name_or_a_dtype(target):
    data = [1.5, -2.0, 0.0]
    ours, theirs = tinytorch.tensor(data), torch.tensor(data)
    same(ours.type(getattr(tinytorch, target)), theirs.type(getattr(torch, target)))
    same(ours.type(f"torch.{target}"), theirs.type(f"torch.{target}"))
    same(ours.type(f"tinytorch.{target}"), theirs.type(f"torch.{target}"))
    assert ours.type(tinytorch.FloatTensor) is ours and ours.type("torch.FloatTensor") is ours
    assert ours.type(getattr(tinytorch, target)).type() == theirs.type(getattr(torch, target)).type().replace("torch", "tinytorch")


def test_type_refuses_unknown_names_as_pytorch():
    for name in ["torch.Foo", "FloatTensor", "float"]:
        with pytest.raises(ValueError, match=f"invalid type: '{name}'"):
            tinytorch.zeros(2).type(name)
        with pytest.raises(ValueError, match=f"invalid type: '{name}'"):
            torch.zeros(2).type(name)


def test_type_to_a_cuda_type(device):
    if not tinytorch.cuda.is_available():
        with pytest.raises(Exception):  # noqa: B017 - no GPU: converting there fails as in PyTorch's CPU build
            tinytorch.zeros(2).type("torch.cuda.FloatTensor")
        return
    if device != "cuda":
        return
    moved = tinytorch.zeros(2).type("torch.cuda.LongTensor")
    assert moved.is_cuda and moved.dtype == tinytorch.int64 and isinstance(moved, tinytorch.cuda.LongTensor)
    assert tinytorch.cuda.FloatTensor([1, 2]).is_cuda


def test_device_flags_match_pytorch():
    flags = [n for n in dir(torch.Tensor) if n.startswith("is_") and not callable(getattr(torch.zeros(1), n))]
    ours, theirs = tinytorch.zeros(2), torch.zeros(2)
    for name in flags:
        assert getattr(ours, name) == getattr(theirs, name), name
    with pytest.raises(AttributeError):
        ours.is_xpu = True


@pytest.mark.parametrize("dtype", DTYPES)
def test_predicate_methods_match_pytorch(dtype):
    ours, theirs = tinytorch.ones(3, dtype=getattr(tinytorch, dtype)), torch.ones(3, dtype=getattr(torch, dtype))
    for name in ["is_complex", "is_signed", "is_conj", "is_neg", "is_pinned", "is_floating_point", "is_contiguous"]:
        assert getattr(ours, name)() == getattr(theirs, name)(), name
    assert ours.is_same_size(tinytorch.zeros(3)) and not ours.is_same_size(tinytorch.zeros(2))
    assert ours[:1].is_nonzero() == theirs[:1].is_nonzero()
    for bad in [ours, ours[:0]]:
        with pytest.raises(RuntimeError, match="Boolean value of Tensor with"):
            bad.is_nonzero()


def test_indexing_with_a_range_matches_pytorch():
    rng = np.random.default_rng(0)
    values, labels = rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])
    x = tinytorch.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    ours, theirs = x[range(5), tinytorch.tensor(labels)], t[range(5), torch.tensor(labels)]
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_allclose(x[range(1, 4, 2)].detach().numpy(), t[range(1, 4, 2)].detach().numpy())
    y, u = tinytorch.zeros(3, 3), torch.zeros(3, 3)
    y[range(3), range(3)] = 1.0
    u[range(3), range(3)] = 1.0
    np.testing.assert_array_equal(y.numpy(), u.numpy())


def test_backends_flags_are_pytorchs_and_settable():
    for name in ["enabled", "benchmark", "deterministic", "allow_tf32", "is_available", "version", "flags"]:
        assert hasattr(torch.backends.cudnn, name) and hasattr(tinytorch.backends.cudnn, name)
    cudnn = tinytorch.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32) == (True, False, False, True)
    before = cudnn.benchmark
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert cudnn.benchmark and cudnn.deterministic
        with cudnn.flags(enabled=False, deterministic=False):
            assert not cudnn.enabled and not cudnn.deterministic
        assert cudnn.enabled and cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = before, False
    assert tinytorch.backends.mps.is_available() is False and tinytorch.backends.mps.is_built() is False
    assert tinytorch.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    tinytorch.backends.cuda.matmul.allow_tf32 = True
    tinytorch.backends.cuda.matmul.allow_tf32 = False
    assert isinstance(tinytorch.backends.cuda.is_built(), bool)


def test_the_mps_idiom_picks_the_cpu_or_cuda():
    device = tinytorch.device("cuda" if tinytorch.cuda.is_available() else "mps" if tinytorch.backends.mps.is_available() else "cpu")
    assert tinytorch.zeros(1, device=device).device.type == device.type
    if device.type == "cuda":  # as PyTorch: a tensor's device names its GPU; "cuda" names none
        assert tinytorch.zeros(1, device=device).device == tinytorch.device("cuda", tinytorch.cuda.current_device()) != device


def test_default_device(device):
    assert repr(tinytorch.get_default_device()) == repr(torch.get_default_device()) == "device(type='cpu')"
    try:
        tinytorch.set_default_device(device)
        placed = tinytorch.device("cuda", tinytorch.cuda.current_device()) if device == "cuda" else tinytorch.device(device)
        assert tinytorch.get_default_device() == placed  # "cuda" resolved to the current GPU, as PyTorch
        made = [tinytorch.zeros(2), tinytorch.ones(2), tinytorch.empty(2), tinytorch.full((2,), 1.0), tinytorch.arange(3),
                tinytorch.linspace(0, 1, 3), tinytorch.eye(2), tinytorch.rand(2), tinytorch.randn(2), tinytorch.randint(3, (2,)),
                tinytorch.randperm(3), tinytorch.tensor([1.0]), tinytorch.as_tensor(np.ones(2)), tinytorch.nn.Linear(2, 2).weight]
        assert all(t.device == placed for t in made)
        # As in PyTorch, the legacy constructors and from_numpy stay on the CPU.
        assert tinytorch.Tensor(2).device.type == tinytorch.from_numpy(np.ones(1)).device.type == "cpu"
        assert tinytorch.zeros_like(tinytorch.zeros(1, device="cpu")).device.type == "cpu"
    finally:
        tinytorch.set_default_device(None)
    assert tinytorch.get_default_device() == tinytorch.device("cpu")
    with tinytorch.device(device):
        assert tinytorch.zeros(1).device == placed
        with tinytorch.device("cpu"):
            assert tinytorch.zeros(1).device.type == "cpu"
        assert tinytorch.get_default_device() == placed
    assert tinytorch.zeros(1).device.type == "cpu"
