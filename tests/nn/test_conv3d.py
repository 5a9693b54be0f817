"""3-D convolutions (conv3d, conv_transpose3d, Conv3d, ConvTranspose3d) and the 3-D padding layers:
values and gradients against torch, gradcheck (first and second order), PyTorch's errors, the
layers' parameters, init, reprs and state_dict keys."""

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck, gradgradcheck
from tinytorch import nn
from tinytorch.nn import functional as F

from .helpers import assert_close, assert_same_error, copy_module, numpy_of, theirs

RNG = np.random.default_rng(0)

# (name, input shape, weight shape, bias, kwargs)
CONVS = [
    ("plain", (2, 4, 5, 6, 7), (6, 4, 3, 2, 3), True, {}),
    ("strided, padded, dilated", (2, 4, 7, 6, 8), (6, 4, 3, 2, 3), True,
     {"stride": (2, 1, 3), "padding": (1, 0, 2), "dilation": (1, 2, 1)}),
    ("groups", (2, 4, 5, 5, 5), (6, 2, 2, 3, 2), False, {"groups": 2, "padding": 1}),
    ("depthwise", (1, 3, 4, 5, 6), (3, 1, 3, 3, 3), True, {"groups": 3, "padding": 1}),
    ("same, even kernel", (2, 2, 5, 6, 4), (3, 2, 2, 4, 3), True, {"padding": "same", "dilation": (1, 1, 2)}),
    ("valid", (2, 2, 5, 6, 4), (3, 2, 2, 4, 3), True, {"padding": "valid"}),
    ("unbatched", (2, 5, 6, 4), (3, 2, 2, 2, 2), True, {"stride": 2}),
    ("1x1x1", (2, 5, 3, 4, 2), (4, 5, 1, 1, 1), True, {}),
]

TRANSPOSED = [
    ("plain", (2, 4, 3, 4, 2), (4, 3, 3, 2, 2), True, {}),
    ("strided, padded, output_padding", (2, 4, 3, 4, 3), (4, 3, 3, 2, 3), True,
     {"stride": (2, 1, 3), "padding": (1, 0, 1), "output_padding": (1, 0, 2)}),
    ("groups, dilation", (2, 4, 3, 3, 2), (4, 2, 2, 3, 2), False, {"groups": 2, "dilation": (2, 1, 2), "stride": 2}),
    ("unbatched", (4, 3, 2, 3), (4, 3, 2, 2, 2), True, {"stride": 2, "padding": 1, "output_padding": 1}),
]


def _run(torch, name, x, w, b, kwargs, dtype, device):
    """Ours and torch's output and gradients of sum(out * weights)."""
    arrays = [a.astype(dtype) for a in (x, w) + ((b,) if b is not None else ())]
    ours = [tinytorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    ref = [theirs(torch, a, True) for a in arrays]
    out = getattr(F, name)(*ours, **kwargs) if b is not None else getattr(F, name)(*ours, None, **kwargs)
    expected = getattr(torch.nn.functional, name)(*ref, **kwargs) if b is not None else \
        getattr(torch.nn.functional, name)(*ref, None, **kwargs)
    assert out.shape == tuple(expected.shape) and out.device.type == device and out.dtype.name == str(expected.dtype)[6:]
    weights = RNG.standard_normal(tuple(expected.shape)).astype(dtype)
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    return out, expected, ours, ref


@pytest.mark.parametrize("case", CONVS + TRANSPOSED, ids=[f"conv3d {c[0]}" for c in CONVS] + [f"transposed {c[0]}" for c in TRANSPOSED])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv3d_values_and_gradients_match_torch(case, dtype, device):
    torch = pytest.importorskip("torch")
    label, x_shape, w_shape, bias, kwargs = case
    name = "conv_transpose3d" if "output_padding" in kwargs or (case in TRANSPOSED) else "conv3d"
    x, w = RNG.standard_normal(x_shape), RNG.standard_normal(w_shape)
    out_channels = w_shape[1] * kwargs.get("groups", 1) if name == "conv_transpose3d" else w_shape[0]
    b = RNG.standard_normal(out_channels) if bias else None
    out, expected, ours, ref = _run(torch, name, x, w, b, kwargs, dtype, device)
    tol = {"atol": 1e-4, "rtol": 1e-4} if dtype == np.float32 else {"atol": 1e-10, "rtol": 1e-10}
    assert_close(out, expected, **tol)
    for got, want in zip(ours, ref):
        assert_close(got.grad, want.grad, **tol)


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    ("conv3d", (1, 2, 3, 4, 3), (2, 1, 2, 2, 2), {"stride": (1, 2, 1), "padding": 1, "groups": 2}),
    ("conv3d", (2, 1, 3, 3, 4), (1, 1, 2, 1, 2), {"padding": "same", "dilation": (1, 1, 2)}),
    ("conv_transpose3d", (1, 2, 2, 3, 2), (2, 2, 2, 2, 2), {"stride": (2, 1, 2), "padding": (1, 0, 0), "output_padding": (1, 0, 1)}),
])
def test_conv3d_gradcheck_first_and_second_order(name, x_shape, w_shape, kwargs):
    x = tinytorch.tensor(RNG.standard_normal(x_shape), requires_grad=True)
    w = tinytorch.tensor(RNG.standard_normal(w_shape), requires_grad=True)
    channels = w_shape[1] * kwargs.get("groups", 1) if name == "conv_transpose3d" else w_shape[0]
    b = tinytorch.tensor(RNG.standard_normal(channels), requires_grad=True)
    fn = lambda x, w, b: getattr(F, name)(x, w, b, **kwargs)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def test_conv3d_chunks_and_wide_adjoint_match_torch():
    """A batch split into several chunks (a large column buffer) and the stride-1 'wide' adjoint."""
    torch = pytest.importorskip("torch")
    x, w = RNG.standard_normal((9, 3, 10, 11, 12)), RNG.standard_normal((5, 3, 3, 3, 3))
    b = RNG.standard_normal(5)
    out, expected, ours, ref = _run(torch, "conv3d", x, w, b, {"padding": 1}, np.float64, "cpu")
    assert_close(out, expected, atol=1e-10)
    for got, want in zip(ours, ref):
        assert_close(got.grad, want.grad, atol=1e-9)


def _conv_errors(lib, case):
    f = lib.nn.functional.conv3d
    t = lib.nn.functional.conv_transpose3d
    x, w = lib.zeros(1, 4, 5, 6, 7), lib.zeros(6, 4, 3, 2, 2)
    calls = {
        "input dim": lambda: f(lib.zeros(4, 5, 6), w),
        "stride length": lambda: f(x, w, stride=(1, 2)),
        "padding length": lambda: f(x, w, padding=(1, 2)),
        "negative padding": lambda: f(x, w, padding=-1),
        "zero stride": lambda: f(x, w, stride=0),
        "channels": lambda: f(lib.zeros(1, 3, 5, 6, 7), w),
        "groups": lambda: f(x, w, groups=4),
        "too small": lambda: f(lib.zeros(1, 4, 2, 6, 7), w),
        "bias": lambda: f(x, w, lib.zeros(5)),
        "same strided": lambda: f(x, w, padding="same", stride=2),
        "bad padding string": lambda: f(x, w, padding="full"),
        "transposed output_padding": lambda: t(lib.zeros(1, 4, 2, 2, 2), lib.zeros(4, 3, 2, 2, 2), stride=2, output_padding=(0, 2, 0)),
        "transposed channels": lambda: t(lib.zeros(1, 3, 2, 2, 2), lib.zeros(4, 3, 2, 2, 2)),
        "transposed string padding": lambda: t(lib.zeros(1, 4, 2, 2, 2), lib.zeros(4, 3, 2, 2, 2), padding="same"),
        "transposed input dim": lambda: t(lib.zeros(4, 2, 2), lib.zeros(4, 3, 2, 2, 2)),
    }
    return calls[case]


@pytest.mark.parametrize("case", [
    "input dim", "stride length", "padding length", "negative padding", "zero stride", "channels",
    "groups", "too small", "bias", "same strided", "bad padding string", "transposed output_padding",
    "transposed channels", "transposed string padding", "transposed input dim",
])
def test_conv3d_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_conv_errors(tinytorch, case), _conv_errors(torch, case))


# -- layers ---------------------------------------------------------------------------------------
LAYERS = [
    ("Conv3d", (4, 6, 3), {}),
    ("Conv3d", (4, 6, (3, 2, 1)), {"stride": (1, 2, 1), "padding": (1, 0, 0), "dilation": 2, "groups": 2, "bias": False}),
    ("Conv3d", (2, 3, 3), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv3d", (2, 3, (2, 3, 2)), {"padding": 1, "padding_mode": "circular"}),
    ("Conv3d", (2, 3, 2), {"padding": (1, 0, 1), "padding_mode": "replicate", "stride": 2}),
    ("Conv3d", (2, 3, 2), {"padding": "valid"}),
    ("ConvTranspose3d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
    ("ConvTranspose3d", (2, 3, (2, 3, 2)), {"dilation": (1, 2, 1), "bias": False}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=[f"{n} {k}" for n, _, k in LAYERS])
def test_conv3d_layers_match_torch(name, args, kwargs, device):
    torch = pytest.importorskip("torch")
    ours, ref = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (name_a, a), (name_b, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert name_a == name_b and tuple(a.shape) == tuple(b.shape)
    copy_module(ref, ours).to(device)
    x = RNG.standard_normal((2, args[0], 5, 6, 5)).astype(np.float32)
    a, ta = tinytorch.tensor(x, device=device, requires_grad=True), theirs(torch, x, True)
    out, expected = ours(a), ref(ta)
    assert_close(out, expected, atol=1e-4, rtol=1e-4)
    out.sum().backward()
    expected.sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-4, rtol=1e-4)
    assert_close(ours.weight.grad, ref.weight.grad, atol=1e-3, rtol=1e-4)


def test_conv_transpose3d_output_size_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch.nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 2), padding=1)
    ours = copy_module(ref, nn.ConvTranspose3d(2, 3, 3, stride=(2, 3, 2), padding=1))
    x = RNG.standard_normal((1, 2, 3, 3, 4)).astype(np.float32)
    for size in [(6, 8, 8), (1, 3, 5, 9, 7)]:
        out, expected = ours(tinytorch.tensor(x), output_size=size), ref(torch.tensor(x), output_size=size)
        assert out.shape == tuple(expected.shape)
        assert_close(out, expected, atol=1e-5)
    assert_same_error(lambda: ours(tinytorch.tensor(x), output_size=(9, 9, 9)), lambda: ref(torch.tensor(x), output_size=(9, 9, 9)))
    with pytest.raises(ValueError, match="Only `zeros` padding mode is supported for ConvTranspose3d"):
        layer = nn.ConvTranspose3d(2, 3, 3)
        layer.padding_mode = "reflect"
        layer(tinytorch.tensor(x))


def test_conv3d_layer_init_matches_torch_bounds():
    """kaiming_uniform(a=sqrt(5)) = U(+-1/sqrt(fan_in)) for the weight and the bias, fan_in = C/groups * kD*kH*kW."""
    layer = nn.Conv3d(8, 16, (3, 2, 4), groups=2)
    bound = 1 / np.sqrt(4 * 3 * 2 * 4)
    weight, bias = numpy_of(layer.weight), numpy_of(layer.bias)
    assert weight.shape == (16, 4, 3, 2, 4) and bias.shape == (16,)
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound
    assert abs(weight.std() - bound / np.sqrt(3)) < 0.1 * bound
    assert np.abs(bias).max() <= bound
    transposed = nn.ConvTranspose3d(8, 6, 2, groups=2)
    assert tuple(transposed.weight.shape) == (8, 3, 2, 2, 2)
    assert np.abs(numpy_of(transposed.weight)).max() <= 1 / np.sqrt(3 * 8)


@pytest.mark.parametrize("kwargs, message", [
    ({"groups": 0}, "groups must be a positive integer"),
    ({"groups": 3}, "in_channels must be divisible by groups"),
    ({"padding": "full"}, "Invalid padding string 'full'"),
    ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions"),
    ({"padding_mode": "mirror"}, "padding_mode must be one of"),
])
def test_conv3d_layer_argument_errors(kwargs, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        torch.nn.Conv3d(4, 6, 3, **kwargs)
    with pytest.raises(ValueError, match=message):
        nn.Conv3d(4, 6, 3, **kwargs)


# -- padding layers -------------------------------------------------------------------------------
PADS = [
    ("ConstantPad3d", ((1, 2, 0, 1, 2, 1), 0.5)),
    ("ConstantPad3d", (1, -1.5)),
    ("ZeroPad3d", ((2, 0, 1, 1, 0, 2),)),
    ("ZeroPad3d", (1,)),
    ("ReflectionPad3d", ((1, 2, 0, 1, 2, 1),)),
    ("ReflectionPad3d", (1,)),
    ("ReplicationPad3d", ((3, 0, 1, 2, 0, 4),)),
    ("CircularPad3d", ((1, 2, 0, 1, 2, 1),)),
    ("CircularPad3d", (2,)),
]


@pytest.mark.parametrize("name, args", PADS, ids=[f"{n}{a}" for n, a in PADS])
@pytest.mark.parametrize("batched", [True, False])
def test_padding3d_layers_match_torch(name, args, batched, device):
    torch = pytest.importorskip("torch")
    ours, ref = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(ref) and ours.padding == ref.padding
    shape = ((2,) if batched else ()) + (3, 3, 4, 5)
    x = RNG.standard_normal(shape)
    a, ta = tinytorch.tensor(x, device=device, requires_grad=True), theirs(torch, x, True)
    out, expected = ours(a), ref(ta)
    assert out.shape == tuple(expected.shape)
    assert_close(out, expected, atol=1e-12)
    weights = RNG.standard_normal(tuple(expected.shape))
    (out * tinytorch.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=1e-12)


@pytest.mark.parametrize("name, shape", [
    ("CircularPad3d", (3, 4, 5)), ("ReflectionPad3d", (3, 4, 5)), ("ReplicationPad3d", (3, 4, 5)),
    ("ReflectionPad3d", (1, 2, 2, 4, 5)), ("ReplicationPad3d", (1, 2, 0, 4, 5)),
])
def test_padding3d_layer_errors_match_torch(name, shape):
    torch = pytest.importorskip("torch")
    assert_same_error(lambda: getattr(nn, name)(2)(tinytorch.zeros(*shape)),
                      lambda: getattr(torch.nn, name)(2)(torch.zeros(*shape)))
