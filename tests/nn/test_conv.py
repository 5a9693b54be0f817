"""Conv1d/2d, ConvTranspose1d/2d, Unfold and Fold: against torch with copied weights (outputs and
every gradient), PyTorch's initialization, reprs and state_dict keys, its errors, and memory."""

import math
import tracemalloc

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn

from .helpers import assert_close, assert_same_error, copy_module, numpy_of, ours, raised, theirs

RNG = np.random.default_rng(0)


def _compare_module(torch, module, reference, shape, dtype=np.float32, forward_args=(), atol=1e-5):
    """Copy torch's weights in, then compare the output and the gradients of input and parameters."""
    copy_module(reference, module)
    x = RNG.standard_normal(shape).astype(dtype)
    a, ta = ours(x, True), theirs(torch, x, True)
    out, expected = module(a, *forward_args), reference(ta, *forward_args)
    assert tuple(out.shape) == tuple(expected.shape)
    assert_close(out, expected, atol=atol, rtol=1e-4)
    weights = RNG.standard_normal(tuple(expected.shape)).astype(dtype)
    (out * tinytorch.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_close(a.grad, ta.grad, atol=atol * 10, rtol=1e-4)
    theirs_params = dict(reference.named_parameters())
    for name, parameter in module.named_parameters():
        assert_close(parameter.grad, theirs_params[name].grad, atol=atol * 10, rtol=1e-4)


CONVS = [
    ("Conv2d plain", lambda lib: lib.nn.Conv2d(3, 4, 3), (2, 3, 7, 6)),
    ("Conv2d MNIST first layer", lambda lib: lib.nn.Conv2d(1, 32, 3, 1), (4, 1, 28, 28)),
    ("Conv2d MNIST second layer", lambda lib: lib.nn.Conv2d(32, 64, 3, 1), (2, 32, 26, 26)),
    ("Conv2d strided, padded, dilated", lambda lib: lib.nn.Conv2d(2, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(2, 1)), (3, 2, 9, 8)),
    ("Conv2d groups", lambda lib: lib.nn.Conv2d(4, 6, 3, groups=2, bias=False), (2, 4, 6, 6)),
    ("Conv2d depthwise", lambda lib: lib.nn.Conv2d(3, 6, 3, padding=1, groups=3), (2, 3, 5, 5)),
    ("Conv2d same, even kernel", lambda lib: lib.nn.Conv2d(2, 3, (4, 2), padding="same", dilation=(1, 2)), (2, 2, 6, 7)),
    ("Conv2d valid", lambda lib: lib.nn.Conv2d(2, 3, 3, padding="valid"), (1, 2, 5, 5)),
    ("Conv2d reflect", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 5, 6)),
    ("Conv2d replicate", lambda lib: lib.nn.Conv2d(2, 3, 3, stride=2, padding=(1, 2), padding_mode="replicate"), (2, 2, 5, 6)),
    ("Conv2d circular", lambda lib: lib.nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (2, 2, 4, 5)),
    ("Conv2d same, circular", lambda lib: lib.nn.Conv2d(2, 3, 4, padding="same", padding_mode="circular"), (2, 2, 6, 6)),
    ("Conv2d unbatched", lambda lib: lib.nn.Conv2d(3, 2, 2), (3, 5, 4)),
    ("Conv1d plain", lambda lib: lib.nn.Conv1d(3, 4, 3), (2, 3, 10)),
    ("Conv1d strided, dilated, groups", lambda lib: lib.nn.Conv1d(4, 2, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 11)),
    ("Conv1d same, reflect", lambda lib: lib.nn.Conv1d(2, 3, 4, padding="same", padding_mode="reflect"), (2, 2, 9)),
    ("Conv1d unbatched", lambda lib: lib.nn.Conv1d(2, 3, 3, padding=1), (2, 7)),
    ("ConvTranspose2d plain", lambda lib: lib.nn.ConvTranspose2d(3, 2, 3), (2, 3, 4, 5)),
    ("ConvTranspose2d strided", lambda lib: lib.nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                                                   groups=2, dilation=(1, 2)), (2, 4, 4, 3)),
    ("ConvTranspose2d unbatched", lambda lib: lib.nn.ConvTranspose2d(2, 3, 2, stride=2, bias=False), (2, 3, 3)),
    ("ConvTranspose1d", lambda lib: lib.nn.ConvTranspose1d(3, 4, 3, stride=3, padding=1, output_padding=2, dilation=2), (2, 3, 5)),
]


@pytest.mark.parametrize("name, make, shape", CONVS, ids=[c[0] for c in CONVS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_layers_match_torch(name, make, shape, dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    reference = make(torch).to(getattr(torch, np.dtype(dtype).name))
    module = make(tinytorch).to(getattr(tinytorch, np.dtype(dtype).name))
    _compare_module(torch, module, reference, shape, dtype, atol=1e-5 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("output_size", [(9, 11), [2, 2, 10, 12], (10, 11)])
def test_conv_transpose_output_size_picks_the_output_padding(output_size):
    torch = pytest.importorskip("torch")
    reference = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    module = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    _compare_module(torch, module, reference, (2, 3, 5, 6), forward_args=(output_size,))


def test_conv_transpose_output_size_errors_match_torch():
    torch = pytest.importorskip("torch")
    for size in [(20, 20), (9,)]:
        assert_same_error(lambda size=size: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)(tinytorch.zeros(1, 3, 5, 6), size),
                          lambda size=size: torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)(torch.zeros(1, 3, 5, 6), size))


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv2d(6, 8, (3, 2), groups=2), 3 * 3 * 2),
    (lambda: nn.Conv1d(4, 300, 5), 4 * 5),
    (lambda: nn.ConvTranspose2d(6, 4, 3, groups=2), 2 * 9),  # the weight is (in, out / groups, k, k): fan_in = dim 1 * k * k
])
def test_initialization_is_pytorchs(make, fan_in):
    """kaiming_uniform(a=sqrt(5)) makes the weight U(+-1/sqrt(fan_in)); the bias has the same bound."""
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    weight, bias = numpy_of(layer.weight), numpy_of(layer.bias)
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert np.abs(weight).max() > 0.8 * bound  # spread over the whole interval, not a fraction of it
    if weight.size > 1000:
        assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_reprs_state_dict_and_attributes_match_torch():
    torch = pytest.importorskip("torch")
    makers = [
        lambda lib: lib.nn.Conv1d(2, 4, 3),
        lambda lib: lib.nn.Conv2d(2, 4, (3, 2), stride=2, padding=1, dilation=2, groups=2, bias=False, padding_mode="reflect"),
        lambda lib: lib.nn.Conv2d(2, 4, 3, padding="same"),
        lambda lib: lib.nn.Conv1d(2, 4, 3, padding="valid"),
        lambda lib: lib.nn.ConvTranspose1d(2, 4, 3),
        lambda lib: lib.nn.ConvTranspose2d(2, 4, 3, stride=2, output_padding=1, dilation=2, groups=2),
        lambda lib: lib.nn.Unfold((2, 3), dilation=2, padding=1, stride=2),
        lambda lib: lib.nn.Fold((4, 5), 2),
    ]
    attributes = ["in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "transposed",
                  "output_padding", "groups", "padding_mode", "_reversed_padding_repeated_twice"]
    for make in makers:
        module, reference = make(tinytorch), make(torch)
        assert repr(module) == repr(reference)
        assert [(k, tuple(v.shape)) for k, v in module.state_dict().items()] == [(k, tuple(v.shape)) for k, v in reference.state_dict().items()]
        for attribute in attributes:
            if hasattr(reference, attribute):
                assert getattr(module, attribute) == getattr(reference, attribute), attribute


def test_functional_forms_take_positional_arguments_as_torch():
    torch = pytest.importorskip("torch")
    x, w, b = RNG.standard_normal((2, 4, 7, 7)), RNG.standard_normal((6, 2, 3, 3)), RNG.standard_normal(6)
    assert_close(F.conv2d(ours(x), ours(w), ours(b), 2, 1, 2, 2), torch.nn.functional.conv2d(theirs(torch, x), theirs(torch, w), theirs(torch, b), 2, 1, 2, 2))
    wt = RNG.standard_normal((4, 3, 3, 3))
    assert_close(F.conv_transpose2d(ours(x), ours(wt), None, 2, 1, 1, 1, 1),
                 torch.nn.functional.conv_transpose2d(theirs(torch, x), theirs(torch, wt), None, 2, 1, 1, 1, 1))


def test_unfold_fold_modules_match_torch_and_fold_sums_overlaps():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((2, 3, 6, 7))
    columns = nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(ours(x))
    expected = torch.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(theirs(torch, x))
    assert_close(columns, expected, atol=0, rtol=0)
    # fold(unfold(x)) counts each pixel once per window that covers it.
    ones = tinytorch.ones(1, 1, 4, 4)
    counts = F.fold(F.unfold(ones, 2), (4, 4), 2)
    assert numpy_of(counts)[0, 0].tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    folded = nn.Fold((6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(columns)
    assert_close(folded, torch.nn.Fold((6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))(expected), atol=1e-12)


def test_conv_is_unfold_then_matmul():
    """The definition, independently of the GEMM path: out[n, o] = W[o] . columns[n]."""
    x, w = ours(RNG.standard_normal((2, 3, 6, 5))), ours(RNG.standard_normal((4, 3, 3, 2)))
    out = F.conv2d(x, w, stride=(1, 2), padding=1, dilation=(2, 1))
    columns = F.unfold(x, (3, 2), dilation=(2, 1), padding=1, stride=(1, 2))
    by_hand = (w.reshape(4, -1) @ columns).reshape(out.shape)
    assert_close(out, by_hand, atol=1e-12)


def test_second_derivative_of_a_conv_net_matches_torch():
    """create_graph through conv and conv_transpose: the gradient's own gradient (double backward)."""
    torch = pytest.importorskip("torch")
    x, w1, w2 = RNG.standard_normal((2, 2, 6, 6)), RNG.standard_normal((3, 2, 3, 3)), RNG.standard_normal((3, 2, 2, 2))
    results = []
    for lib, make in ((tinytorch, ours), (torch, lambda a, g: theirs(torch, a, g))):
        fn = lib.nn.functional
        inputs = [make(a, True) for a in (x, w1, w2)]
        hidden = fn.conv2d(inputs[0], inputs[1], padding=1, stride=2).tanh()
        out = fn.conv_transpose2d(hidden, inputs[2], stride=2)
        grads = lib.autograd.grad((out ** 2).sum(), inputs, create_graph=True)
        penalty = sum((g ** 2).sum() for g in grads)
        results.append(lib.autograd.grad(penalty, inputs))
    for got, expected in zip(*results):
        assert_close(got, expected, atol=1e-8, rtol=1e-6)


def _conv_errors(lib):
    fn, x, w = lib.nn.functional, lib.zeros(2, 3, 5, 5), lib.zeros(4, 3, 3, 3)
    return {
        "wrong channels": lambda: fn.conv2d(x, lib.zeros(4, 2, 3, 3)),
        "kernel larger than the padded input": lambda: fn.conv2d(x, lib.zeros(4, 3, 6, 6)),
        "dilated kernel too large": lambda: fn.conv2d(x, w, dilation=3),
        "zero stride": lambda: fn.conv2d(x, w, stride=0),
        "negative stride": lambda: fn.conv2d(x, w, stride=(1, -1)),
        "negative padding": lambda: fn.conv2d(x, w, padding=-1),
        "zero dilation": lambda: fn.conv2d(x, w, dilation=0),
        "groups that do not divide the input channels": lambda: fn.conv2d(x, lib.zeros(4, 1, 3, 3), groups=2),
        "groups that do not divide the output channels": lambda: fn.conv2d(lib.zeros(2, 4, 5, 5), lib.zeros(3, 2, 3, 3), groups=2),
        "zero groups": lambda: fn.conv2d(x, w, groups=0),
        "2-D input to conv2d": lambda: fn.conv2d(lib.zeros(3, 5), w),
        "5-D input to conv2d": lambda: fn.conv2d(lib.zeros(1, 2, 3, 5, 5), w),
        "4-D input to conv1d": lambda: fn.conv1d(x, w),
        "weight of 2 dims": lambda: fn.conv2d(x, lib.zeros(4, 3)),
        "bias of the wrong size": lambda: fn.conv2d(x, w, lib.zeros(5)),
        "stride of 3 values": lambda: fn.conv2d(x, w, stride=(1, 1, 1)),
        "padding of 2 values for conv1d": lambda: fn.conv1d(lib.zeros(2, 3, 5), lib.zeros(4, 3, 3), padding=(1, 1)),
        "padding='same' with a stride": lambda: fn.conv2d(x, w, stride=2, padding="same"),
        "unknown padding string": lambda: fn.conv2d(x, w, padding="full"),
        "conv1d kernel larger than the input": lambda: fn.conv1d(lib.zeros(2, 3, 5), lib.zeros(4, 3, 6)),
        "transposed: wrong channels": lambda: fn.conv_transpose2d(x, lib.zeros(4, 2, 3, 3)),
        "transposed: output_padding not below stride": lambda: fn.conv_transpose2d(x, lib.zeros(3, 2, 3, 3), output_padding=1),
        "transposed 1-D: output_padding": lambda: fn.conv_transpose1d(lib.zeros(2, 3, 5), lib.zeros(3, 2, 3), output_padding=1),
        "transposed: negative output_padding": lambda: fn.conv_transpose2d(x, lib.zeros(3, 2, 3, 3), output_padding=-1),
        "transposed: output too small": lambda: fn.conv_transpose2d(lib.zeros(1, 3, 1, 1), lib.zeros(3, 2, 1, 1), padding=2),
        "transposed: padding string": lambda: fn.conv_transpose2d(x, lib.zeros(3, 2, 3, 3), padding="same"),
        "transposed: groups": lambda: fn.conv_transpose2d(x, lib.zeros(3, 2, 3, 3), groups=2),
        "Conv2d in_channels not divisible by groups": lambda: lib.nn.Conv2d(3, 4, 3, groups=2),
        "Conv2d zero groups": lambda: lib.nn.Conv2d(3, 4, 3, groups=0),
        "Conv2d same padding with a stride": lambda: lib.nn.Conv2d(3, 4, 3, stride=2, padding="same"),
        "ConvTranspose2d reflect padding": lambda: lib.nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect"),
        "Conv2d fed the wrong channels": lambda: lib.nn.Conv2d(4, 4, 3)(x),
        "Conv2d reflect padding too wide": lambda: lib.nn.Conv2d(3, 4, 3, padding=5, padding_mode="reflect")(x),
        "unfold kernel too large": lambda: fn.unfold(x, 6),
        "unfold zero stride": lambda: fn.unfold(x, 2, stride=0),
        "unfold negative padding": lambda: fn.unfold(x, 2, padding=-1),
        "unfold 5-D": lambda: fn.unfold(lib.zeros(1, 1, 2, 5, 5), 2),
        "unfold 2-D": lambda: fn.unfold(lib.zeros(5, 5), 2),
        "fold channels not divisible": lambda: fn.fold(lib.zeros(2, 13, 16), (5, 5), 2),
        "fold block count": lambda: fn.fold(lib.zeros(2, 12, 15), (5, 5), 2),
        "fold 4-D": lambda: fn.fold(lib.zeros(1, 12, 16, 1), (5, 5), 2),
        "fold output_size of 3": lambda: fn.fold(lib.zeros(2, 12, 16), (5, 5, 5), 2),
    }


@pytest.mark.parametrize("case", list(_conv_errors(tinytorch)))
def test_conv_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    assert_same_error(_conv_errors(tinytorch)[case], _conv_errors(torch)[case])


def test_unknown_padding_mode_names_the_valid_ones():
    """PyTorch prints the valid modes as a set (its order varies between processes): same type, same words."""
    with pytest.raises(ValueError, match="padding_mode must be one of .*, but got padding_mode='zero'") as info:
        nn.Conv2d(3, 4, 3, padding_mode="zero")
    assert all(f"'{mode}'" in str(info.value) for mode in ("zeros", "reflect", "replicate", "circular"))


def test_dtype_and_device_mismatches_name_the_types():
    x = tinytorch.zeros(1, 2, 4, 4)
    with pytest.raises(RuntimeError, match=r"Input type \(tinytorch.FloatTensor\) and weight type \(tinytorch.DoubleTensor\)"):
        F.conv2d(x, tinytorch.zeros(3, 2, 2, 2, dtype=tinytorch.float64))
    with pytest.raises(RuntimeError, match=r"Input type \(float\) and bias type \(double\) should be the same"):
        F.conv2d(x, tinytorch.zeros(3, 2, 2, 2), tinytorch.zeros(3, dtype=tinytorch.float64))
    torch = pytest.importorskip("torch")

    def call(lib):
        return lib.nn.functional.conv2d(lib.zeros(1, 2, 4, 4), lib.zeros(3, 2, 2, 2, dtype=lib.float64))

    assert raised(lambda: call(tinytorch))[0] == raised(lambda: call(torch))[0]


def test_bad_arguments_change_nothing():
    layer = nn.Conv2d(3, 4, 3)
    before = {k: numpy_of(v).copy() for k, v in layer.state_dict().items()}
    x = tinytorch.ones(2, 5, 8, 8, requires_grad=True)
    with pytest.raises(RuntimeError):
        layer(x)
    assert x.grad is None and x.grad_fn is None
    for key, value in layer.state_dict().items():
        assert np.array_equal(numpy_of(value), before[key]) and layer._parameters[key].grad is None


def test_im2col_memory_stays_within_a_chunk():
    """The MNIST CNN's 32 -> 64 layer at batch 64: its column matrix for the whole batch would be
    64 * 288 * 576 floats (42 MB); forward and backward together allocate far less than that,
    and nothing of it outlives the backward."""
    layer = nn.Conv2d(32, 64, 3)
    x = tinytorch.randn(64, 32, 26, 26, requires_grad=True)
    whole_batch_columns = 64 * 32 * 9 * 24 * 24 * 4
    tracemalloc.start()
    try:
        out = layer(x)
        out.sum().backward()
        del out
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    output_and_gradients = (64 * 64 * 24 * 24 + 64 * 32 * 26 * 26 + 64 * 32 * 9) * 4
    assert peak - output_and_gradients < whole_batch_columns / 2
    assert current < 1.5 * 64 * 32 * 26 * 26 * 4  # x.grad and small change; no column buffer kept


def test_an_empty_batch_gives_empty_outputs_and_gradients_as_torch():
    torch = pytest.importorskip("torch")
    calls = [
        lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1),
        lambda lib, x, w: lib.nn.functional.conv_transpose2d(x[:, :, :, :].repeat(1, 4, 1, 1)[:, :4], w, stride=2),
        lambda lib, x, w: lib.nn.functional.max_pool2d(x, 2),
        lambda lib, x, w: lib.nn.functional.avg_pool2d(x, 2, padding=1),
    ]
    for call in calls:
        results = []
        for lib in (tinytorch, torch):
            x = lib.zeros(0, 3, 5, 5, requires_grad=True)
            w = lib.ones(4, 3, 3, 3, requires_grad=True)
            out = call(lib, x, w)
            out.sum().backward()
            results.append((tuple(out.shape), tuple(x.grad.shape), None if w.grad is None else float(w.grad.abs().sum())))
        assert results[0] == results[1]
