"""``SummaryWriter`` writes event files that TensorBoard's own reader (EventAccumulator) reads
back: every scalar, histogram, image, text, hyperparameter and the graph."""

import io
import os
import socket

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.test_examples import load

pytest.importorskip("tensorboard", reason="the tensorboard package is not installed (pip install 'tinytorch[tensorboard]')")
EventAccumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator").EventAccumulator
EventFileLoader = pytest.importorskip("tensorboard.backend.event_processing.event_file_loader").EventFileLoader
SessionLog = pytest.importorskip("tensorboard.compat.proto.event_pb2").SessionLog
plugin_data_pb2 = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2")
SummaryWriter = pytest.importorskip("tinytorch.utils.tensorboard").SummaryWriter


def read(path):
    """Everything TensorBoard finds in the run at ``path`` (no sampling: size_guidance 0 keeps all)."""
    accumulator = EventAccumulator(str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    accumulator.Reload()
    return accumulator


def decode_png(encoded):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded)))


def test_scalars_histograms_images_and_text_read_back(tmp_path):
    weights = tinytorch.randn(1000)
    picture = tinytorch.rand(3, 6, 10)
    batch = tinytorch.rand(4, 1, 5, 5)
    with SummaryWriter(tmp_path) as writer:
        for step in range(7):
            writer.add_scalar("train/loss", 2.0 / (step + 1), step)
            writer.add_scalar("train/accuracy", tinytorch.tensor(0.1 * step), step)
        writer.add_histogram("fc1.weight", weights, 0)
        writer.add_histogram("numpy", np.arange(10.0), 3, bins="auto")
        writer.add_image("picture", picture, 0)
        writer.add_image("picture_hwc", picture.permute(1, 2, 0), 0, dataformats="HWC")
        writer.add_image("gray", tinytorch.rand(6, 10), 0, dataformats="HW")
        writer.add_images("batch", batch, 0)
        writer.add_text("notes", "**tinytorch** wrote this", 0)
    run = read(tmp_path)
    tags = run.Tags()
    assert set(tags["scalars"]) == {"train/loss", "train/accuracy"}
    assert [(e.step, e.value) for e in run.Scalars("train/loss")] == [(s, pytest.approx(2.0 / (s + 1))) for s in range(7)]
    assert [e.value for e in run.Scalars("train/accuracy")] == pytest.approx([0.1 * s for s in range(7)])

    histogram = run.Histograms("fc1.weight")[0].histogram_value
    data = weights.numpy().astype(np.float64)
    assert histogram.num == 1000 and sum(histogram.bucket) == 1000
    assert (histogram.min, histogram.max) == (pytest.approx(data.min()), pytest.approx(data.max()))
    assert histogram.sum == pytest.approx(data.sum()) and histogram.sum_squares == pytest.approx(data @ data)
    assert run.Histograms("numpy")[0].step == 3 and run.Histograms("numpy")[0].histogram_value.num == 10

    for tag in ("picture", "picture_hwc"):
        (event,) = run.Images(tag)
        assert (event.width, event.height) == (10, 6)
        expected = (picture.permute(1, 2, 0).numpy() * 255).clip(0, 255).astype(np.uint8)
        np.testing.assert_array_equal(decode_png(event.encoded_image_string), expected)
    assert decode_png(run.Images("gray")[0].encoded_image_string).shape == (6, 10, 3)
    grid = decode_png(run.Images("batch")[0].encoded_image_string)
    assert grid.shape == (5, 20, 3)  # 4 images side by side, gray turned RGB
    np.testing.assert_array_equal(grid[:, 5:10, 0], (batch[1, 0].numpy() * 255).astype(np.uint8))

    (note,) = run.Tensors("notes/text_summary")
    assert note.tensor_proto.string_val == [b"**tinytorch** wrote this"]


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        for step in range(3):
            writer.add_scalars("loss", {"train": 1.0 - 0.1 * step, "test": 2.0 - 0.1 * step}, step)
    for name, start in (("train", 1.0), ("test", 2.0)):
        run = read(tmp_path / f"loss_{name}")
        assert [e.value for e in run.Scalars("loss")] == pytest.approx([start - 0.1 * s for s in range(3)])


def test_add_hparams_writes_the_plugin_data_and_the_metrics(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"lr": 0.01, "batch": 12, "optimizer": "SGD", "nesterov": False},
                           {"hparam/accuracy": 0.97}, run_name="trial")
    run = read(tmp_path / "trial")
    assert run.Scalars("hparam/accuracy")[0].value == pytest.approx(0.97)
    content = run.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert start.hparams["lr"].number_value == pytest.approx(0.01) and start.hparams["batch"].number_value == 12
    assert start.hparams["optimizer"].string_value == "SGD" and start.hparams["nesterov"].bool_value is False
    with pytest.raises(TypeError, match="should be dictionary"):
        SummaryWriter(tmp_path / "x").add_hparams([("lr", 1)], {})


def test_add_figure_renders_matplotlib(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as writer:
        writer.add_figure("curve", figure, 4)
    (event,) = read(tmp_path).Images("curve")
    assert (event.step, event.width, event.height) == (4, 100, 50)
    assert not plt.fignum_exists(figure.number)  # close=True


def test_add_graph_holds_the_ops_grouped_by_module(tmp_path):
    model = load("mnist_mlp").MLP()
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, tinytorch.randn(2, 1, 28, 28))
    graph = read(tmp_path).Graph()
    nodes = {node.name: node for node in graph.node}
    assert nodes["input/input.0"].op == "IO Node"
    assert nodes["MLP/Linear[fc1]/weight"].op == "Parameter"
    linear = nodes["MLP/Linear[fc1]/Linear"]
    assert linear.op == "Linear" and list(linear.input) == ["MLP/Reshape", "MLP/Linear[fc1]/weight", "MLP/Linear[fc1]/bias"]
    assert sorted(node.op for node in graph.node).count("Relu") == 4
    assert list(nodes["output/output.0"].input) == ["MLP/Linear[fc5]/Linear"]
    shape = nodes["MLP/Linear[fc1]/Linear"].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [2, 512]
    assert model.training


def test_add_graph_follows_an_in_place_op(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, tinytorch.randn(1, 3))
    nodes = {node.name: node for node in read(tmp_path).Graph().node}
    assert list(nodes["Sequential/Linear[2]/Linear"].input)[0] == "Sequential/ReLU[1]/Relu"


def test_default_log_dir_comment_and_purge_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1", purge_step=5)
    writer.add_scalar("x", 1.0, 5)
    writer.close()
    writer.close()  # a second close does nothing
    (folder,) = os.listdir(tmp_path / "runs")
    assert folder.endswith("_" + socket.gethostname() + "_lr0.1") and writer.get_logdir() == os.path.join("runs", folder)
    assert read(tmp_path / "runs" / folder).Scalars("x")[0].step == 5
    (path,) = (tmp_path / "runs" / folder).iterdir()
    events = list(EventFileLoader(str(path)).Load())
    # The purge marker: a session START at step 5 tells TensorBoard to drop older events from step 5 on.
    assert any(e.step == 5 and e.session_log.status == SessionLog.START for e in events)


def test_flush_writes_before_close_and_a_closed_writer_reopens(tmp_path):
    writer = SummaryWriter(tmp_path, flush_secs=3600, max_queue=1000, filename_suffix=".first")
    writer.add_scalar("a", 1.0, 0)
    writer.flush()
    assert [e.value for e in read(tmp_path).Scalars("a")] == [1.0]
    assert all(name.endswith(".first") for name in os.listdir(tmp_path))
    writer.close()
    writer.add_scalar("a", 2.0, 1)  # a new event file in the same folder
    writer.close()
    assert len(os.listdir(tmp_path)) == 2


def test_same_events_as_pytorchs_writer(tmp_path):
    """The same calls through torch.utils.tensorboard give the same values, buckets and pixels."""
    torch = pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    values = np.random.default_rng(1).normal(size=500).astype(np.float32)
    image = np.random.default_rng(2).random((3, 4, 5)).astype(np.float32)
    for writer_class, folder, wrap in ((SummaryWriter, "ours", tinytorch.from_numpy), (TorchWriter, "theirs", torch.from_numpy)):
        with writer_class(tmp_path / folder) as writer:
            writer.add_scalar("s", wrap(values[:1].copy()), 2)
            writer.add_histogram("h", wrap(values.copy()), 0)
            writer.add_histogram("h_fd", wrap(values.copy()), 0, bins="fd", max_bins=10)
            writer.add_image("i", wrap(image.copy()), 0)
    ours, theirs = read(tmp_path / "ours"), read(tmp_path / "theirs")
    assert ours.Scalars("s")[0].value == theirs.Scalars("s")[0].value
    for tag in ("h", "h_fd"):
        assert ours.Histograms(tag)[0].histogram_value == theirs.Histograms(tag)[0].histogram_value
    assert ours.Images("i")[0].encoded_image_string == theirs.Images("i")[0].encoded_image_string
