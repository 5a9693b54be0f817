"""``tinytorch.onnx.export``: the written model passes ``onnx.checker`` and onnxruntime computes
what tinytorch computes, at the traced batch size and at others (a dynamic batch axis)."""

import io

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.test_examples import load

onnx = pytest.importorskip("onnx", reason="the onnx package is not installed (pip install 'tinytorch[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'tinytorch[onnx]')")


def run_onnx(proto, feeds):
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {name: value.numpy() for name, value in feeds.items()})


def expected(model, *inputs):
    model.eval()
    with tinytorch.no_grad():
        out = model(*inputs)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def max_difference(model, proto, batches, make_input):
    """The largest |onnxruntime - tinytorch| over runs at each batch size."""
    worst = 0.0
    for batch in batches:
        x = make_input(batch)
        (got,) = run_onnx(proto, {"input": x})
        (want,) = expected(model, x)
        assert got.shape == want.shape
        worst = max(worst, float(np.abs(got - want).max()))
    return worst


def lecture_mlp():
    return load("mnist_mlp").MLP(), lambda n: tinytorch.randn(n, 1, 28, 28)


def mnist_cnn():
    return load("mnist_cnn").Net(), lambda n: tinytorch.randn(n, 1, 28, 28)


def transformer_block():
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, dropout=0.1, batch_first=True)
    return layer, lambda n: tinytorch.randn(n, 7, 32)


@pytest.mark.parametrize("build, ops", [
    (lecture_mlp, {"Gemm", "Relu", "Reshape"}),
    (mnist_cnn, {"Conv", "MaxPool", "Gemm", "LogSoftmax"}),
    (transformer_block, {"LayerNormalization", "Softmax", "MatMul"}),
], ids=["lecture_mlp", "mnist_cnn", "transformer_block"])
def test_onnxruntime_matches_tinytorch_at_two_batch_sizes(build, ops, tmp_path):
    model, make_input = build()
    path = tmp_path / "model.onnx"
    tinytorch.onnx.export(model, (make_input(3),), str(path), input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert ops <= {node.op_type for node in proto.graph.node}
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert model.training  # export ran it in eval mode and put it back
    assert max_difference(model.eval(), proto, (3, 1, 16), make_input) < 2e-5


def test_parameters_are_initializers_under_their_state_dict_names():
    model, make_input = lecture_mlp()
    proto = tinytorch.onnx.export(model, make_input(2))
    initializers = {init.name: onnx.numpy_helper.to_array(init) for init in proto.graph.initializer}
    for name, tensor in model.state_dict().items():
        np.testing.assert_array_equal(initializers[name], tensor.numpy())


def test_writes_to_a_file_object_and_uses_default_names():
    model, make_input = lecture_mlp()
    buffer = io.BytesIO()
    tinytorch.onnx.export(model, make_input(2), buffer)
    proto = onnx.load_from_string(buffer.getvalue())
    assert [v.name for v in proto.graph.input] == ["input"] and [v.name for v in proto.graph.output] == ["output"]
    # Without dynamic axes the batch size is fixed.
    assert [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [2, 1, 28, 28]


def test_two_dynamic_axes_sequence_first_transformer():
    """batch_first=False with both the sequence and the batch dynamic: the reshapes of the
    attention heads (L, B * heads, d) are computed from the input's shape at run time."""
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, activation="gelu")
    proto = tinytorch.onnx.export(layer, tinytorch.randn(5, 3, 16), dynamic_axes={"input": {0: "seq", 1: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    for shape in [(5, 3, 16), (2, 7, 16), (9, 1, 16)]:
        x = tinytorch.randn(*shape)
        (got,) = run_onnx(proto, {"input": x})
        np.testing.assert_allclose(got, expected(layer, x)[0], atol=2e-5)


def test_gelu_below_opset_20_is_written_with_erf():
    layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, activation="gelu", batch_first=True)
    proto = tinytorch.onnx.export(layer, tinytorch.randn(2, 3, 8), opset_version=17, dynamic_axes={"input": [0]})
    onnx.checker.check_model(proto, full_check=True)
    assert "Erf" in {n.op_type for n in proto.graph.node} and "Gelu" not in {n.op_type for n in proto.graph.node}
    x = tinytorch.randn(4, 3, 8)
    np.testing.assert_allclose(run_onnx(proto, {"input": x})[0], expected(layer, x)[0], atol=2e-5)


class Mixed(nn.Module):
    """Embedding (Gather), BatchNorm1d (BatchNormalization), slicing, concat, transpose, tanh, sigmoid,
    dropout, an in-place ReLU, a constant and a mean."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 6)
        self.norm = nn.BatchNorm1d(6)
        self.drop = nn.Dropout(0.5)
        self.act = nn.ReLU(inplace=True)
        self.register_buffer("offset", tinytorch.linspace(-1, 1, 4))

    def forward(self, tokens):
        x = self.embed(tokens)                      # (B, L, 6)
        x = self.norm(x.transpose(1, 2))            # (B, 6, L)
        x = self.drop(x)
        head, tail = x[:, :3], x[:, 3:, 1:]
        x = tinytorch.cat([head[:, :, 1:].tanh(), tail.sigmoid() * 2.0], dim=1)  # (B, 6, L - 1)
        x = self.act(x - 0.25)
        return x.mean(-1, keepdim=True) + self.offset[None, :1, None], x[..., 0].softmax(-1)


def test_embedding_batchnorm_slices_concat_in_place_and_two_outputs():
    model = Mixed()
    with tinytorch.no_grad():  # running statistics that are not 0 and 1
        model.norm.running_mean.uniform_(-0.5, 0.5)
        model.norm.running_var.uniform_(0.5, 2.0)
    tokens = tinytorch.randint(0, 20, (3, 5))
    proto = tinytorch.onnx.export(model, (tokens,), input_names=["tokens"], output_names=["pooled", "probs"],
                                  dynamic_axes={"tokens": {0: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    ops = {n.op_type for n in proto.graph.node}
    assert {"Gather", "BatchNormalization", "Concat", "Slice", "Transpose", "Tanh", "Sigmoid", "Relu"} <= ops
    assert "Dropout" not in ops  # eval mode: the identity
    for batch in (3, 8):
        tokens = tinytorch.randint(0, 20, (batch, 5))
        got = run_onnx(proto, {"tokens": tokens})
        for g, w in zip(got, expected(model.eval(), tokens)):
            np.testing.assert_allclose(g, w, atol=1e-5)


@pytest.mark.parametrize("flags", [{"sparse": True}, {"scale_grad_by_freq": True}])
def test_an_embedding_with_sparse_or_frequency_scaled_gradients_exports_as_gather(flags):
    model = nn.Embedding(20, 6, padding_idx=0, **flags)
    tokens = tinytorch.randint(0, 20, (3, 5))
    proto = tinytorch.onnx.export(model, (tokens,), input_names=["tokens"], dynamic_axes={"tokens": {0: "batch"}})
    onnx.checker.check_model(proto, full_check=True)
    assert "Gather" in {n.op_type for n in proto.graph.node} <= {"Gather", "Identity"}
    tokens = tinytorch.randint(0, 20, (7, 5))
    np.testing.assert_array_equal(run_onnx(proto, {"tokens": tokens})[0], model(tokens).detach().numpy())


def test_the_first_op_it_cannot_express_is_named_with_its_line():
    class Rolls(nn.Module):
        def forward(self, x):
            return x.relu().roll(1, 0) * 2

    with pytest.raises(tinytorch.onnx.OnnxExporterError, match=r"Roll \(ONNX export does not support this op.*test_onnx.py:\d+: return x.relu\(\).roll"):
        tinytorch.onnx.export(Rolls(), tinytorch.randn(3, 3))


def test_a_value_from_an_unrecorded_op_is_refused_not_frozen():
    """A comparison is no recorded op: its result would be baked in as a constant. The second
    run (other values) shows that it depends on the input, and the export stops."""

    class Masked(nn.Module):
        def forward(self, x):
            return x * (x > 0)

    with pytest.raises(tinytorch.onnx.OnnxExporterError, match="depends on the inputs but was computed by an operation that is not recorded"):
        tinytorch.onnx.export(Masked(), tinytorch.randn(4, 3))


def test_a_size_that_follows_no_dynamic_axis_is_refused():
    class Fixed(nn.Module):
        def forward(self, x):
            return x + tinytorch.zeros(x.shape[0], 1)  # created from the batch size: a constant

    tinytorch.onnx.export(Fixed(), tinytorch.randn(4, 3))  # fine with a fixed batch
    with pytest.raises(tinytorch.onnx.OnnxExporterError, match="depends on the inputs"):
        tinytorch.onnx.export(Fixed(), tinytorch.randn(4, 3), dynamic_axes={"input": [0]})


def test_is_in_onnx_export_while_exporting():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(tinytorch.onnx.is_in_onnx_export())
            return F.relu(x)

    tinytorch.onnx.export(Probe(), tinytorch.randn(2))
    assert seen and all(seen) and not tinytorch.onnx.is_in_onnx_export()


@pytest.mark.parametrize("opset", [12, 99, "17"])
def test_opset_out_of_range_is_a_value_error(opset):
    with pytest.raises(ValueError, match="opset_version"):
        tinytorch.onnx.export(nn.Linear(2, 2), tinytorch.randn(1, 2), opset_version=opset)


def test_against_pytorchs_own_export_of_the_same_weights():
    """onnxruntime on tinytorch's export gives what PyTorch computes with the same weights."""
    torch = pytest.importorskip("torch")
    model, make_input = mnist_cnn()
    x = make_input(2)
    model.eval()
    ours = run_onnx(tinytorch.onnx.export(model, x), {"input": x})[0]
    # The example's network in PyTorch, with tinytorch's weights.
    reference = torch.nn.ModuleDict({
        "conv1": torch.nn.Conv2d(1, 32, 3, 1), "conv2": torch.nn.Conv2d(32, 64, 3, 1),
        "fc1": torch.nn.Linear(9216, 128), "fc2": torch.nn.Linear(128, 10),
    })
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    with torch.no_grad():
        t = torch.from_numpy(x.numpy())
        t = torch.relu(reference["conv2"](torch.relu(reference["conv1"](t))))
        t = torch.flatten(torch.nn.functional.max_pool2d(t, 2), 1)
        t = torch.log_softmax(reference["fc2"](torch.relu(reference["fc1"](t))), 1)
    np.testing.assert_allclose(ours, t.numpy(), atol=2e-5)


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize("model, shape", [
    (nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 5)),
    (nn.Sequential(nn.Conv1d(3, 4, 3, padding=2, dilation=2), nn.MaxPool1d(2), nn.AvgPool1d(2)), (2, 3, 12)),
    (nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
    (nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 8, 8)),
    (nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    (nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 2, 3, groups=1)), (2, 3, 6, 6)),
    (nn.Sequential(nn.LayerNorm(6, elementwise_affine=False), nn.GELU(approximate="tanh")), (2, 4, 6)),
    (Lambda(lambda x: tinytorch.where(tinytorch.tensor([True, False] * 2 + [True]), x.exp() - 1, x.detach()).log1p().clamp(min=-2) ** 2), (3, 5)),
    (Lambda(lambda x: x.max(-1)[0] + x.amin(-1) + x.sum() + x.norm(dim=-1) + x.flip(0).cumsum(-1)[:, -1]), (3, 5)),
    (Lambda(lambda x: x.tril(-1) @ x[:5].T.triu() + x.repeat(1, 3)[:, ::3] + x.split(2, 1)[1].sum(1, keepdim=True)), (5, 5)),
    (nn.Sequential(nn.Conv3d(2, 3, (3, 2, 3), stride=(1, 2, 1), padding=(1, 0, 2), dilation=(2, 1, 1)),
                   nn.MaxPool3d((2, 1, 2), stride=(1, 1, 2)), nn.AvgPool3d(2, padding=1, count_include_pad=False)), (2, 2, 7, 6, 8)),
    (nn.Sequential(nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1, output_padding=1), nn.MaxPool3d(2, ceil_mode=True),
                   nn.AdaptiveAvgPool3d(1)), (2, 2, 4, 6, 3)),
    (nn.Sequential(nn.AdaptiveMaxPool2d((2, 3)), nn.Flatten(), Lambda(lambda x: x.unsqueeze(1)), nn.AdaptiveMaxPool1d(3)), (2, 2, 4, 6)),
    (nn.AdaptiveMaxPool3d((2, 3, 1)), (2, 2, 4, 6, 3)),
], ids=["conv_transpose2d", "conv1d_pool1d", "avg_pool_excluding_pad", "max_pool_ceil", "adaptive_avg_pool",
        "reflection_pad_conv", "layer_norm_gelu_tanh", "where_exp_log1p_clamp_pow_detach",
        "reductions_flip_cumsum", "tril_triu_matmul_repeat_split", "conv3d_pools3d", "conv_transpose3d_pools3d", "adaptive_max_pools_1d_2d", "adaptive_max_pool3d"])
def test_more_ops_match_onnxruntime(model, shape):
    x = tinytorch.randn(*shape)
    proto = tinytorch.onnx.export(model, x, dynamic_axes={"input": [0]})
    onnx.checker.check_model(proto, full_check=True)
    for batch in (shape[0], 2 * shape[0] + 1):
        x = tinytorch.randn(batch, *shape[1:])
        (got,) = run_onnx(proto, {"input": x})
        np.testing.assert_allclose(got, expected(model, x)[0], rtol=1e-5, atol=1e-5)
