"""Attention against torch: F.scaled_dot_product_attention (masks, causal, scale, GQA, broadcast
batch dims, fully masked rows), nn.MultiheadAttention (every option, masks, need_weights,
batch_first, kdim/vdim, bias_k/bias_v, add_zero_attn), the Transformer layers and stacks, with
copied weights: outputs and every gradient, float32 and float64; reprs, init and errors."""

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.nn import functional as F

TOLERANCE = {"float64": 1e-9, "float32": 2e-5}


def close(ours, theirs, dtype="float64"):
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(ours.detach().cpu().numpy(), theirs.detach().cpu().numpy(), rtol=tol, atol=tol)


def leaves(torch, arrays, dtype, device="cpu"):
    theirs = [torch.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
    ours = [tinytorch.tensor(np.asarray(a, dtype=dtype), requires_grad=True, device=device) for a in arrays]
    return theirs, ours


def backward_both(torch, out_theirs, out_ours, dtype, device="cpu"):
    rng = np.random.default_rng(9)
    loss_theirs = loss_ours = 0
    for a, b in zip(out_theirs, out_ours):
        if a is None:
            assert b is None
            continue
        assert tuple(a.shape) == tuple(b.shape)
        close(b, a, dtype)
        w = rng.standard_normal(tuple(a.shape)).astype(dtype)
        loss_theirs = loss_theirs + (a * torch.tensor(w)).sum()
        loss_ours = loss_ours + (b * tinytorch.tensor(w, device=device)).sum()
    loss_theirs.backward()
    loss_ours.backward()


SDPA_CASES = {
    "plain": lambda rng: ({}, [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]),
    "causal": lambda rng: ({"is_causal": True}, [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]),
    "bool mask with a fully masked row": lambda rng: ({"attn_mask": np.r_[rng.random((1, 6)) < 0.5, np.zeros((1, 6), bool),
                                                                            rng.random((2, 6)) < 0.5]},
                                                       [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]),
    "float mask (differentiated)": lambda rng: ({"attn_mask": rng.standard_normal((3, 4, 6))}, [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]),
    "scale": lambda rng: ({"scale": 0.3}, [(2, 4, 5), (2, 6, 5), (2, 6, 7)]),
    "broadcast batch dims": lambda rng: ({}, [(3, 4, 5), (2, 1, 6, 5), (2, 3, 6, 7)]),
    "gqa": lambda rng: ({"enable_gqa": True}, [(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 7)]),
    "2-D": lambda rng: ({}, [(4, 5), (6, 5), (6, 7)]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_scaled_dot_product_attention_matches_torch(case, dtype, device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    kwargs, shapes = SDPA_CASES[case](rng)
    (qt, kt, vt), (qo, ko, vo) = leaves(torch, [rng.standard_normal(s) for s in shapes], dtype, device)
    kwargs_theirs, kwargs_ours = dict(kwargs), dict(kwargs)
    mask_pair = None
    if "attn_mask" in kwargs:
        mask = kwargs["attn_mask"]
        if mask.dtype == bool:
            kwargs_theirs["attn_mask"], kwargs_ours["attn_mask"] = torch.tensor(mask), tinytorch.tensor(mask, device=device)
        else:
            mask_pair = leaves(torch, [mask], dtype, device)
            kwargs_theirs["attn_mask"], kwargs_ours["attn_mask"] = mask_pair[0][0], mask_pair[1][0]
    out_theirs = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, **kwargs_theirs)
    out_ours = F.scaled_dot_product_attention(qo, ko, vo, **kwargs_ours)
    assert out_ours.device.type == device
    backward_both(torch, [out_theirs], [out_ours], dtype, device)
    pairs = [(qt, qo), (kt, ko), (vt, vo)] + ([(mask_pair[0][0], mask_pair[1][0])] if mask_pair else [])
    for a, b in pairs:
        close(b.grad, a.grad, dtype)


def test_attention_dropout_keeps_the_expectation():
    """dropout_p zeroes attention weights and rescales the rest: the mean output is unchanged."""
    q, k, v = tinytorch.randn(1, 1, 3, 4), tinytorch.randn(1, 1, 5, 4), tinytorch.randn(1, 1, 5, 2)
    exact = F.scaled_dot_product_attention(q, k, v)
    samples = tinytorch.stack([F.scaled_dot_product_attention(q, k, v, dropout_p=0.3) for _ in range(3000)])
    assert not tinytorch.allclose(samples[0], exact)
    spread = samples.std(0) / 3000 ** 0.5
    assert ((samples.mean(0) - exact).abs() <= 5 * spread + 1e-6).all()
    assert tinytorch.equal(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0), tinytorch.zeros(1, 1, 3, 2))


def test_attention_double_backward_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    mask = rng.random((4, 6)) < 0.7
    mask[2] = False
    (qt, kt, vt), (qo, ko, vo) = leaves(torch, [rng.standard_normal(s) for s in [(2, 4, 5), (2, 6, 5), (2, 6, 3)]], "float64")
    out_t = torch.nn.functional.scaled_dot_product_attention(qt, kt, vt, attn_mask=torch.tensor(mask))
    out_o = F.scaled_dot_product_attention(qo, ko, vo, attn_mask=tinytorch.tensor(mask))
    grads_t = torch.autograd.grad((out_t ** 2).sum(), (qt, kt, vt), create_graph=True)
    grads_o = tinytorch.autograd.grad((out_o ** 2).sum(), (qo, ko, vo), create_graph=True)
    for a, b in zip(grads_t, grads_o):
        close(b, a)
    sum((g ** 2).sum() for g in grads_t).backward()
    sum((g ** 2).sum() for g in grads_o).backward()
    for a, b in ((qt, qo), (kt, ko), (vt, vo)):
        close(b.grad, a.grad)


# -- MultiheadAttention --------------------------------------------------------------------------
def twins(torch, make, dtype="float64", device="cpu"):
    """The same module built in both libraries, torch's weights copied into ours, dropout off."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = make(torch.nn).to(getattr(torch, dtype))
        ours = make(nn).to(getattr(tinytorch, dtype))
    ours.load_state_dict({k: tinytorch.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    ours.to(device)
    for module in list(theirs.modules()) + list(ours.modules()):
        if type(module).__name__ == "Dropout":
            module.p = 0.0
        if type(module).__name__ == "MultiheadAttention":
            module.dropout = 0.0
    return theirs, ours


MHA_OPTIONS = [{}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True, "add_zero_attn": True}, {"bias": False}]
MASKS = ["none", "attn bool", "attn float", "attn 3-D", "key padding", "both"]


@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("masks", MASKS)
@pytest.mark.parametrize("options", MHA_OPTIONS, ids=[str(o) for o in MHA_OPTIONS])
def test_multihead_attention_matches_torch(options, masks, need_weights, average, device):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.MultiheadAttention(8, 2, **options), device=device)
    rng = np.random.default_rng(2)
    L, S, N = 4, 5, 3
    first = options.get("batch_first", False)

    def shape(length, width):
        return (N, length, width) if first else (length, N, width)

    arrays = [rng.standard_normal(shape(L, 8)), rng.standard_normal(shape(S, options.get("kdim", 8))),
              rng.standard_normal(shape(S, options.get("vdim", 8)))]
    (qt, kt, vt), (qo, ko, vo) = leaves(torch, arrays, "float64", device)
    kw_t, kw_o = {"need_weights": need_weights, "average_attn_weights": average}, {"need_weights": need_weights, "average_attn_weights": average}
    if masks in ("attn bool", "both"):
        m = rng.random((L, S)) < 0.3
        kw_t["attn_mask"], kw_o["attn_mask"] = torch.tensor(m), tinytorch.tensor(m, device=device)
    if masks == "attn float":
        m = rng.standard_normal((L, S))
        kw_t["attn_mask"], kw_o["attn_mask"] = torch.tensor(m), tinytorch.tensor(m, device=device)
    if masks == "attn 3-D":
        m = rng.random((N * 2, L, S)) < 0.3
        m[..., 0] = False
        kw_t["attn_mask"], kw_o["attn_mask"] = torch.tensor(m), tinytorch.tensor(m, device=device)
    if masks in ("key padding", "both"):
        m = rng.random((N, S)) < 0.3
        m[:, 0] = False
        kw_t["key_padding_mask"], kw_o["key_padding_mask"] = torch.tensor(m), tinytorch.tensor(m, device=device)
    out_t = theirs(qt, kt, vt, **kw_t)
    out_o = ours(qo, ko, vo, **kw_o)
    backward_both(torch, out_t, out_o, "float64", device)
    for a, b in ((qt, qo), (kt, ko), (vt, vo)):
        close(b.grad, a.grad)
    for (n1, p1), (n2, p2) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert n1 == n2
        close(p2.grad, p1.grad)


def test_multihead_self_attention_unbatched_and_causal():
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.MultiheadAttention(6, 3))
    rng = np.random.default_rng(3)
    (xt,), (xo,) = leaves(torch, [rng.standard_normal((5, 6))], "float64")
    causal_t = torch.nn.Transformer.generate_square_subsequent_mask(5)
    causal_o = nn.Transformer.generate_square_subsequent_mask(5)
    out_t = theirs(xt, xt, xt, attn_mask=causal_t, is_causal=True, need_weights=False)
    out_o = ours(xo, xo, xo, attn_mask=causal_o, is_causal=True, need_weights=False)
    backward_both(torch, out_t, out_o, "float64")
    close(xo.grad, xt.grad)


def test_multihead_attention_float32():
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.MultiheadAttention(8, 4, batch_first=True), "float32")
    rng = np.random.default_rng(4)
    (xt,), (xo,) = leaves(torch, [rng.standard_normal((2, 5, 8))], "float32")
    backward_both(torch, theirs(xt, xt, xt), ours(xo, xo, xo), "float32")
    close(xo.grad, xt.grad, "float32")
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad, "float32")


def test_multihead_attention_names_repr_and_init():
    torch = pytest.importorskip("torch")
    for options in MHA_OPTIONS:
        theirs, ours = torch.nn.MultiheadAttention(8, 2, **options), nn.MultiheadAttention(8, 2, **options)
        assert repr(ours) == repr(theirs)
        assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    layer = nn.MultiheadAttention(64, 4)
    bound = (6 / (64 + 3 * 64)) ** 0.5  # xavier_uniform_ on the (192, 64) packed weight
    w = layer.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not layer.in_proj_bias.detach().numpy().any() and not layer.out_proj.bias.detach().numpy().any()


# -- Transformer layers --------------------------------------------------------------------------
LAYER_OPTIONS = [{}, {"batch_first": True, "norm_first": True}, {"activation": "gelu", "bias": False}, {"layer_norm_eps": 1e-3}]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=[str(o) for o in LAYER_OPTIONS])
def test_encoder_layer_matches_torch(options, dtype, device):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.TransformerEncoderLayer(8, 2, 16, **options), dtype, device)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(5)
    (xt,), (xo,) = leaves(torch, [rng.standard_normal((3, 4, 8))], dtype, device)
    padding = rng.random((3 if options.get("batch_first") else 4, 4 if options.get("batch_first") else 3)) < 0.3
    padding[:, 0] = False
    kwargs_t = {"src_mask": torch.nn.Transformer.generate_square_subsequent_mask(4 if options.get("batch_first") else 3).to(getattr(torch, dtype))}
    kwargs_o = {"src_mask": nn.Transformer.generate_square_subsequent_mask(4 if options.get("batch_first") else 3, device=device,
                                                                             dtype=getattr(tinytorch, dtype))}
    kwargs_t["src_key_padding_mask"] = torch.tensor(padding).to(getattr(torch, dtype)).masked_fill(torch.tensor(padding), float("-inf"))
    kwargs_o["src_key_padding_mask"] = tinytorch.tensor(padding, device=device).to(getattr(tinytorch, dtype)).masked_fill(
        tinytorch.tensor(padding, device=device), float("-inf"))
    backward_both(torch, [theirs(xt, **kwargs_t)], [ours(xo, **kwargs_o)], dtype, device)
    close(xo.grad, xt.grad, dtype)
    for (n1, p1), (n2, p2) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert n1 == n2
        close(p2.grad, p1.grad, dtype)


@pytest.mark.parametrize("options", LAYER_OPTIONS, ids=[str(o) for o in LAYER_OPTIONS])
def test_decoder_layer_matches_torch(options):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.TransformerDecoderLayer(8, 2, 16, **options))
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(6)
    first = options.get("batch_first", False)
    (tt_, mt), (to, mo) = leaves(torch, [rng.standard_normal((2, 4, 8) if first else (4, 2, 8)),
                                         rng.standard_normal((2, 5, 8) if first else (5, 2, 8))], "float64")
    kpm = rng.random((2, 5)) < 0.3
    kpm[:, 0] = False
    out_t = theirs(tt_, mt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4), memory_key_padding_mask=torch.tensor(kpm),
                   tgt_is_causal=True)
    out_o = ours(to, mo, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4), memory_key_padding_mask=tinytorch.tensor(kpm),
                 tgt_is_causal=True)
    backward_both(torch, [out_t], [out_o], "float64")
    close(to.grad, tt_.grad)
    close(mo.grad, mt.grad)
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad)


def test_transformer_matches_torch(device):
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.Transformer(8, 2, 2, 2, 16), device=device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(7)
    (st, tt_), (so, to) = leaves(torch, [rng.standard_normal((5, 3, 8)), rng.standard_normal((4, 3, 8))], "float64", device)
    kpm = rng.random((3, 5)) < 0.3
    kpm[:, 0] = False
    out_t = theirs(st, tt_, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4), src_key_padding_mask=torch.tensor(kpm),
                   memory_key_padding_mask=torch.tensor(kpm))
    out_o = ours(so, to, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, device=device),
                 src_key_padding_mask=tinytorch.tensor(kpm, device=device), memory_key_padding_mask=tinytorch.tensor(kpm, device=device))
    backward_both(torch, [out_t], [out_o], "float64", device)
    close(so.grad, st.grad)
    close(to.grad, tt_.grad)
    for (n1, p1), (n2, p2) in zip(theirs.named_parameters(), ours.named_parameters()):
        assert n1 == n2
        close(p2.grad, p1.grad)


def test_encoder_stack_with_causal_mask_and_final_norm():
    torch = pytest.importorskip("torch")
    theirs, ours = twins(torch, lambda lib: lib.TransformerEncoder(lib.TransformerEncoderLayer(8, 4, 16, batch_first=True), 3,
                                                                   norm=lib.LayerNorm(8)))
    rng = np.random.default_rng(8)
    (xt,), (xo,) = leaves(torch, [rng.standard_normal((2, 6, 8))], "float64")
    out_t = theirs(xt, mask=torch.nn.Transformer.generate_square_subsequent_mask(6), is_causal=True)
    out_o = ours(xo, mask=nn.Transformer.generate_square_subsequent_mask(6), is_causal=True)
    backward_both(torch, [out_t], [out_o], "float64")
    close(xo.grad, xt.grad)
    for p1, p2 in zip(theirs.parameters(), ours.parameters()):
        close(p2.grad, p1.grad)
    assert ours.layers[0].linear1.weight is not ours.layers[1].linear1.weight  # deep copies


def test_generate_square_subsequent_mask_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Transformer.generate_square_subsequent_mask(5, dtype=tinytorch.float64)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    assert ours.dtype == tinytorch.float64 and np.array_equal(ours.numpy(), theirs.numpy())


def test_transformer_init_is_xavier_on_matrices():
    model = nn.Transformer(16, 2, 1, 1, 32)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = (6 / (16 + 32)) ** 0.5
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.9 * bound


def test_encoder_warns_about_nested_tensors_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning) as theirs:
        torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2), 2)
    with pytest.warns(UserWarning) as ours:
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 2)
    assert str(ours[0].message) == str(theirs[0].message)


# -- errors, as torch ---------------------------------------------------------------------------
def sdpa(lib, **kwargs):
    """scaled_dot_product_attention of q (1, 2, 3, 4), k (1, 2, 5, 4), v (1, 2, 5, 6) unless replaced."""
    q = kwargs.pop("q", lib.ones(1, 2, 3, 4))
    k = kwargs.pop("k", lib.ones(1, 2, 5, 4))
    v = kwargs.pop("v", lib.ones(1, 2, 5, 6))
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)


def mha(lib, **kwargs):
    return lib.nn.MultiheadAttention(8, 2, **kwargs)


def x(lib, *shape):
    return lib.ones(*shape)


def error_cases():
    return [
        ("sdpa causal with a mask", lambda lib: sdpa(lib, attn_mask=lib.ones(3, 5, dtype=lib.bool), is_causal=True)),
        ("sdpa key width", lambda lib: sdpa(lib, k=lib.ones(1, 2, 5, 3))),
        ("sdpa value length", lambda lib: sdpa(lib, v=lib.ones(1, 2, 4, 6))),
        ("sdpa mask dtype", lambda lib: sdpa(lib, attn_mask=lib.ones(3, 5, dtype=lib.int64))),
        ("sdpa mask float64", lambda lib: sdpa(lib, attn_mask=lib.ones(3, 5, dtype=lib.float64))),
        ("sdpa dtypes", lambda lib: sdpa(lib, q=lib.ones(1, 2, 3, 4, dtype=lib.float64))),
        ("sdpa dropout", lambda lib: sdpa(lib, dropout_p=1.5)),
        ("mha heads divide", lambda lib: mha(lib, dropout=0.0).__class__(7, 2)),
        ("mha zero heads", lambda lib: lib.nn.MultiheadAttention(8, 0)),
        ("mha embed dim", lambda lib: mha(lib)(x(lib, 3, 2, 6), x(lib, 3, 2, 6), x(lib, 3, 2, 6))),
        ("mha key dims", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 3, 8), x(lib, 3, 8))),
        ("mha query dims", lambda lib: mha(lib)(x(lib, 8), x(lib, 8), x(lib, 8))),
        ("mha key/value shapes", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 5, 2, 8))),
        ("mha 2-D mask shape", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), attn_mask=lib.ones(3, 3, dtype=lib.bool))),
        ("mha 3-D mask shape", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), attn_mask=lib.ones(2, 3, 4, dtype=lib.bool))),
        ("mha 4-D mask", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), attn_mask=lib.ones(1, 2, 3, 4, dtype=lib.bool))),
        ("mha int mask", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), attn_mask=lib.ones(3, 4, dtype=lib.int64))),
        ("mha padding mask dims", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), key_padding_mask=lib.ones(2, 4, 1, dtype=lib.bool))),
        ("mha padding mask batch", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 4, 2, 8), x(lib, 4, 2, 8), key_padding_mask=lib.zeros(3, 4, dtype=lib.bool))),
        ("mha causal without mask", lambda lib: mha(lib)(x(lib, 3, 2, 8), x(lib, 3, 2, 8), x(lib, 3, 2, 8), is_causal=True)),
        ("transformer batch", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(x(lib, 3, 2, 8), x(lib, 3, 4, 8))),
        ("transformer width", lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(x(lib, 3, 2, 6), x(lib, 3, 2, 6))),
        ("activation name", lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh")),
    ]


@pytest.mark.parametrize("name, make", error_cases(), ids=[name for name, _ in error_cases()])
def test_errors_match_torch(name, make):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(theirs.type) as ours:
        make(tinytorch)
    assert str(ours.value).replace("tinytorch.", "torch.") == str(theirs.value)
