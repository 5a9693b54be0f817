"""MNIST from the shipped data/MNIST/raw files, IDX parsing errors, and downloads (no network)."""

import gzip
import hashlib
import io
import os
import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.utils.data import DataLoader, Subset
from tinytorch.utils.data._collate import SampleBatch
from tinytorch.vision import datasets, transforms
from tinytorch.vision.datasets import utils as download_utils

DATA = Path(__file__).resolve().parents[2] / "data"
NORMALIZE = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])


@pytest.fixture(scope="module")
def train():
    return datasets.MNIST(DATA, train=True)


@pytest.fixture(scope="module")
def test():
    return datasets.MNIST(DATA, train=False)


# -- the shipped data --------------------------------------------------------------------------------
def test_lengths_and_tensors(train, test):
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == tinytorch.uint8
    assert test.targets.shape == (10000,) and test.targets.dtype == tinytorch.int64
    assert train.data.min().item() == 0 and train.data.max().item() == 255
    assert sorted(set(train.targets.tolist())) == list(range(10))


def test_first_twelve_test_labels(test):
    assert test.targets[:12].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6]
    assert [test[i][1] for i in range(12)] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6]


def test_item_is_an_image_and_an_int(test):
    image, label = test[0]
    assert type(label) is int and label == 7
    try:
        from PIL import Image
    except ImportError:
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    else:
        assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert np.array_equal(np.asarray(image), test.data[0].numpy())


def test_to_tensor_item_values(test):
    test.transform = transforms.ToTensor()
    try:
        image, _ = test[0]
    finally:
        test.transform = None
    assert image.shape == (1, 28, 28) and image.dtype == tinytorch.float32
    assert image.min().item() == 0.0 and image.max().item() == 1.0
    assert np.allclose(image.numpy()[0], test.data[0].numpy() / 255)


def test_classes_and_class_to_idx(train):
    assert train.classes[0] == "0 - zero" and train.classes[9] == "9 - nine"
    assert train.class_to_idx["7 - seven"] == 7 and len(train.class_to_idx) == 10
    assert datasets.FashionMNIST.classes[9] == "Ankle boot"
    assert "Split: Train" in repr(train) and "Number of datapoints: 60000" in repr(train)


def test_getitems_batches_equal_items(test):
    pipeline = transforms.Compose([transforms.RandomCrop(28, padding=2), transforms.RandomHorizontalFlip(), NORMALIZE])
    dataset = datasets.MNIST(DATA, train=False, transform=pipeline, target_transform=lambda y: y * 10)
    indices = [3, 0, 9999, 17, 3]
    tinytorch.manual_seed(4)
    batch = dataset.__getitems__(indices)
    tinytorch.manual_seed(4)
    items = [dataset[i] for i in indices]
    assert isinstance(batch, SampleBatch) and len(batch) == 5
    images, labels = batch.columns
    assert images.shape == (5, 1, 28, 28) and labels == [y for _, y in items] == [0, 70, 60, 70, 0]
    assert np.array_equal(images.numpy(), np.stack([image.numpy() for image, _ in items]))


def test_getitems_falls_back_to_items_without_a_batched_transform():
    dataset = datasets.MNIST(DATA, train=False, transform=transforms.Lambda(lambda image: np.asarray(image).sum()))
    assert dataset.__getitems__([0, 1]) == [dataset[0], dataset[1]]
    assert isinstance(datasets.MNIST(DATA, train=False).__getitems__([0]), list)


def test_loader_over_mnist_with_and_without_workers():
    dataset = Subset(datasets.MNIST(DATA, train=False, transform=NORMALIZE), range(100))
    main = [(x.numpy().copy(), y.tolist()) for x, y in DataLoader(dataset, batch_size=12)]
    workers = [(x.numpy(), y.tolist()) for x, y in DataLoader(dataset, batch_size=12, num_workers=2)]
    assert len(main) == 9 and main[0][0].shape == (12, 1, 28, 28) and main[-1][0].shape == (4, 1, 28, 28)
    assert main[0][1] == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6]
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(main, workers))
    expected = (dataset.dataset.data[:12].numpy() / 255 - 0.1307) / 0.3081
    assert np.allclose(main[0][0][:, 0], expected, atol=1e-6)


def test_an_epoch_at_batch_12_takes_the_batched_path(train, monkeypatch):
    """Every batch is transformed at once (``__getitems__``, ToTensor + Normalize on the stacked
    uint8 images): no image goes through the per-image ``__getitem__`` (ten times slower)."""
    calls = []
    per_image = datasets.MNIST.__getitem__
    monkeypatch.setattr(datasets.MNIST, "__getitem__", lambda self, index: calls.append(index) or per_image(self, index))
    dataset = datasets.MNIST(DATA, train=True, transform=NORMALIZE)
    batches = list(DataLoader(dataset, batch_size=12, shuffle=True))
    assert len(batches) == 5000 and calls == []
    assert dataset[3][1] == int(dataset.targets[3]) and calls == [3]  # the patch counts
    x, y = batches[0]
    assert x.shape == (12, 1, 28, 28) and x.dtype == tinytorch.float32 and y.dtype == tinytorch.int64


# -- IDX files written by the tests ------------------------------------------------------------------
def _idx(array, magic_type=0x08):
    header = struct.pack(">HBB", 0, magic_type, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def _write(root, name, payload, compress=True, folder="MNIST"):
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    path = raw / (name + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def _small_split(root, split="t10k", n=3, compress=True, folder="MNIST"):
    images = np.arange(n * 28 * 28).reshape(n, 28, 28) % 256
    labels = np.arange(n) % 10
    _write(root, f"{split}-images-idx3-ubyte", _idx(images), compress, folder)
    _write(root, f"{split}-labels-idx1-ubyte", _idx(labels), compress, folder)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_reads_small_idx_files_raw_or_gzipped(tmp_path, compress):
    images, labels = _small_split(tmp_path, compress=compress)
    dataset = datasets.MNIST(tmp_path, train=False)
    assert len(dataset) == 3 and dataset.targets.tolist() == labels.tolist()
    assert np.array_equal(dataset.data.numpy(), images)


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    _small_split(tmp_path, split="train", n=2, folder="FashionMNIST")
    dataset = datasets.FashionMNIST(tmp_path, train=True)
    assert len(dataset) == 2 and dataset.raw_folder == os.path.join(str(tmp_path), "FashionMNIST", "raw")
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path, train=True)


def test_missing_files_name_the_folder(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True to download it") as caught:
        datasets.MNIST(tmp_path, train=True)
    assert os.path.join(str(tmp_path), "MNIST", "raw") in str(caught.value)
    assert "train-images-idx3-ubyte" in str(caught.value)


def _expect_error(tmp_path, match):
    with pytest.raises(RuntimeError, match=match) as caught:
        datasets.MNIST(tmp_path, train=False)
    assert "t10k-" in str(caught.value) and str(tmp_path) in str(caught.value)  # names the file


def test_wrong_magic_number(tmp_path):
    _small_split(tmp_path)
    _write(tmp_path, "t10k-images-idx3-ubyte", b"\x12\x34\x08\x03" + bytes(100))
    _expect_error(tmp_path, r"not an IDX file \(magic number 0x12340803\)")


def test_truncated_file(tmp_path):
    images, _ = _small_split(tmp_path)
    _write(tmp_path, "t10k-images-idx3-ubyte", _idx(images)[:-10])
    _expect_error(tmp_path, "truncated")
    _write(tmp_path, "t10k-images-idx3-ubyte", b"\x00\x00\x08\x03\x00\x00")
    _expect_error(tmp_path, "shorter than its 16-byte header")
    _write(tmp_path, "t10k-images-idx3-ubyte", b"\x00\x00")
    _expect_error(tmp_path, "shorter than the magic number")


def test_counts_that_disagree_with_the_file_size(tmp_path):
    images, _ = _small_split(tmp_path)
    _write(tmp_path, "t10k-images-idx3-ubyte", _idx(images) + b"extra")
    _expect_error(tmp_path, r"header says 3x28x28 values of uint8 .*holds 2373 bytes \(trailing data\)")


def test_image_and_label_counts_must_agree(tmp_path):
    _small_split(tmp_path, n=3)
    _write(tmp_path, "t10k-labels-idx1-ubyte", _idx(np.arange(4)))
    _expect_error(tmp_path, "holds 3 images but .* holds 4 labels")


def test_wrong_kind_of_file(tmp_path):
    _small_split(tmp_path)
    _write(tmp_path, "t10k-images-idx3-ubyte", _idx(np.arange(5)))
    _expect_error(tmp_path, r"expected an MNIST image file \(magic number 0x00000803")


def test_corrupt_gzip(tmp_path):
    _small_split(tmp_path)
    (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip at all")
    _expect_error(tmp_path, "not a valid gzip file")


# -- downloads ---------------------------------------------------------------------------------------
class FakeResponse(io.BytesIO):
    def __init__(self, payload, fail_after=None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection dropped")
        return super().read(size)


def _payloads():
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    files = {
        "train-images-idx3-ubyte.gz": _idx(images), "train-labels-idx1-ubyte.gz": _idx(np.array([3, 1])),
        "t10k-images-idx3-ubyte.gz": _idx(images[:1]), "t10k-labels-idx1-ubyte.gz": _idx(np.array([7])),
    }
    return {name: gzip.compress(data) for name, data in files.items()}


def _fake_mnist(payloads, md5s=None):
    class FakeMNIST(datasets.MNIST):
        mirrors = ["https://first.example/mnist/", "https://second.example/mnist/"]
        resources = [(name, (md5s or {}).get(name, hashlib.md5(data).hexdigest())) for name, data in payloads.items()]

    return FakeMNIST


def _opener(payloads, calls, failing_host=None, fail_after=None):
    def urlopen(request, timeout):
        url = request.full_url
        calls.append(url)
        if failing_host and failing_host in url:
            raise urllib.error.URLError("no route to host")
        return FakeResponse(payloads[url.rsplit("/", 1)[1]], fail_after)

    return urlopen


def test_download_success(tmp_path, monkeypatch):
    payloads, calls = _payloads(), []
    monkeypatch.setattr(download_utils, "_urlopen", _opener(payloads, calls))
    dataset = _fake_mnist(payloads)(tmp_path, train=True, download=True)
    assert dataset.targets.tolist() == [3, 1]
    assert calls == [f"https://first.example/mnist/{name}" for name in payloads]
    raw = tmp_path / "FakeMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(payloads)  # no temporary files left
    assert all((raw / name).read_bytes() == data for name, data in payloads.items())
    _fake_mnist(payloads)(tmp_path, train=False, download=True)  # already there: nothing fetched
    assert len(calls) == 4


def test_download_tries_the_next_mirror(tmp_path, monkeypatch):
    payloads, calls = _payloads(), []
    monkeypatch.setattr(download_utils, "_urlopen", _opener(payloads, calls, failing_host="first.example"))
    assert len(_fake_mnist(payloads)(tmp_path, train=False, download=True)) == 1
    assert sum("second.example" in url for url in calls) == 4


def test_checksum_mismatch_removes_the_partial_file(tmp_path, monkeypatch):
    payloads, calls = _payloads(), []
    monkeypatch.setattr(download_utils, "_urlopen", _opener(payloads, calls))
    wrong = {"train-labels-idx1-ubyte.gz": "0" * 32}
    with pytest.raises(RuntimeError, match="Checksum mismatch .* expected 00000000"):
        _fake_mnist(payloads, wrong)(tmp_path, train=True, download=True)
    raw = tmp_path / "FakeMNIST" / "raw"
    assert sorted(os.listdir(raw)) == ["train-images-idx3-ubyte.gz"]  # the bad file is gone, no .part


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    payloads, calls = _payloads(), []
    monkeypatch.setattr(download_utils, "_urlopen", _opener(payloads, calls, fail_after=10))
    with pytest.raises(RuntimeError, match="Error downloading train-images-idx3-ubyte.gz"):
        _fake_mnist(payloads)(tmp_path, train=True, download=True)
    assert os.listdir(tmp_path / "FakeMNIST" / "raw") == []


def test_download_url_from_a_file_url(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"tinytorch" * 1000)
    md5 = hashlib.md5(source.read_bytes()).hexdigest()
    path = download_utils.download_url(source.as_uri(), tmp_path / "out", md5=md5)
    assert Path(path).read_bytes() == source.read_bytes()
    assert download_utils.check_integrity(path, md5) and not download_utils.check_integrity(path, "0" * 32)
    with pytest.raises(RuntimeError, match="Checksum mismatch"):
        download_utils.download_url(source.as_uri(), tmp_path / "bad", md5="0" * 32)
    assert os.listdir(tmp_path / "bad") == []
