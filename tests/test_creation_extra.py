"""scalar_tensor, the deprecated range, empty_strided and frombuffer: values, dtypes, warnings and
errors against torch."""

import array

import numpy as np
import pytest

import tinytorch


def _same(ours, theirs):
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())


def _same_error(call, kind=Exception):
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as expected:
        call(torch)
    with pytest.raises(kind) as got:
        call(tinytorch)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("value, kwargs", [(3, {}), (3, {"dtype": "int64"}), (True, {}), (1.5, {}), (-2.25, {"dtype": "float64"}),
                                           ("tensor", {}), (7, {"dtype": "uint8"})])
def test_scalar_tensor_matches_torch(value, kwargs):
    torch = pytest.importorskip("torch")

    def make(lib):
        s = lib.tensor(2.0) if value == "tensor" else value
        return lib.scalar_tensor(s, **{k: getattr(lib, v) for k, v in kwargs.items()})

    _same(make(tinytorch), make(torch))


def test_scalar_tensor_requires_grad_and_errors():
    t = tinytorch.scalar_tensor(1.5, requires_grad=True)
    assert t.requires_grad and t.dim() == 0
    _same_error(lambda lib: lib.scalar_tensor("a"), TypeError)
    _same_error(lambda lib: lib.scalar_tensor(10**20), OverflowError)


@pytest.mark.parametrize("args, kwargs", [((1, 4), {}), ((0, 1, 0.25), {}), ((1, 4), {"dtype": "int64"}), ((4, 1, -1), {}),
                                          ((0, 1, 0.3), {}), ((-2.5, 2.5, 0.5), {"dtype": "float64"}), ((3, 3), {})])
def test_range_matches_torch_and_warns(args, kwargs):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        with pytest.warns(UserWarning, match="torch.range is deprecated") as record:
            results.append(lib.range(*args, **{k: getattr(lib, v) for k, v in kwargs.items()}))
        assert record[0].filename == __file__  # points at the caller, as torch's
    _same(*results)


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_range_errors_and_out():
    for call in (lambda lib: lib.range(1, 4, 0), lambda lib: lib.range(4, 1), lambda lib: lib.range(1, 4, -1)):
        _same_error(call, RuntimeError)
    with pytest.raises(TypeError):
        tinytorch.range(4)  # PyTorch requires both bounds too
    out = tinytorch.empty(0)
    assert tinytorch.range(1, 3, out=out) is out and out.tolist() == [1.0, 2.0, 3.0]
    assert tinytorch.range(start=1, end=3, requires_grad=True).requires_grad


@pytest.mark.parametrize("size, stride", [((2, 3), (3, 1)), ((2, 3), (1, 2)), ((2, 3), (0, 0)), ((4,), (2,)),
                                          ((2, 0, 3), (3, 3, 1)), ((), ())])
def test_empty_strided_has_the_size_and_strides_asked_for(size, stride):
    torch = pytest.importorskip("torch")
    ours, theirs = tinytorch.empty_strided(size, stride), torch.empty_strided(size, stride)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.dtype == tinytorch.float32


def test_empty_strided_memory_is_shared_where_strides_overlap():
    t = tinytorch.empty_strided((2, 3), (1, 1), dtype=tinytorch.int64)
    t.zero_()
    t[0, 1] = 7  # the same element as t[1, 0]
    assert t[1, 0].item() == 7
    assert tinytorch.empty_strided((2, 3), (3, 1), dtype=tinytorch.int64, requires_grad=False).dtype == tinytorch.int64
    assert tinytorch.empty_strided(size=(2,), stride=(1,), requires_grad=True).requires_grad


@pytest.mark.parametrize("size, stride", [((2, 3), (1,)), ((2, -3), (3, 1)), ((2, 3), (3, -1))])
def test_empty_strided_errors_match_torch(size, stride):
    _same_error(lambda lib: lib.empty_strided(size, stride), RuntimeError)


@pytest.mark.parametrize("kwargs", [{"dtype": "int32"}, {"dtype": "int32", "count": 1, "offset": 4},
                                    {"dtype": "int16", "count": -1, "offset": 2}, {"dtype": "uint8"},
                                    {"dtype": "float32"}])
def test_frombuffer_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tinytorch, torch):
        buffer = bytearray(b"\x01\x00\x00\x00\x02\x00\x80\x3f")
        results.append(lib.frombuffer(buffer, **{k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}))
    _same(*results)


def test_frombuffer_shares_the_buffer():
    buffer = bytearray(4)
    t = tinytorch.frombuffer(buffer, dtype=tinytorch.uint8)
    t[0] = 9
    assert buffer[0] == 9
    floats = array.array("f", [1.0, 2.0])
    assert tinytorch.frombuffer(floats, dtype=tinytorch.float32).tolist() == [1.0, 2.0]
    assert tinytorch.frombuffer(floats, dtype=tinytorch.float32, requires_grad=True).requires_grad


def test_frombuffer_warns_for_a_read_only_buffer():
    with pytest.warns(UserWarning, match="The given buffer is not writable"):
        t = tinytorch.frombuffer(b"abcd", dtype=tinytorch.uint8)
    assert t.tolist() == [97, 98, 99, 100]


@pytest.mark.parametrize("buffer, kwargs", [
    (b"\x00" * 8, {"count": 3}), (b"\x00" * 8, {"offset": 9}), (b"\x00" * 8, {"offset": -1}), (b"\x00" * 8, {"offset": 8}),
    (b"\x00" * 8, {"offset": 6}), (b"\x00" * 3, {"dtype": "int16"}), ([1, 2], {}), (b"", {}), (b"\x00" * 8, {"count": 0}),
])
@pytest.mark.filterwarnings("ignore:The given buffer is not writable")
def test_frombuffer_errors_match_torch(buffer, kwargs):
    kwargs = {"dtype": "int32", **kwargs}
    _same_error(lambda lib: lib.frombuffer(bytearray(buffer) if isinstance(buffer, bytes) else buffer,
                                           **{k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}), ValueError)
