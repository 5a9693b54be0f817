"""CIFAR10/CIFAR100 on small generated files in torchvision's layout: loading, integrity checks,
download (from a local file, no network), and hostile pickles that must not run code."""

import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from tinytorch.utils.data import DataLoader
from tinytorch.vision import datasets, transforms
from tinytorch.vision.datasets import _pickle

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def _batch(rng, count, key="labels", classes=10):
    return {"batch_label": "generated", key: rng.integers(0, classes, count).tolist(),
            "data": rng.integers(0, 256, (count, 3072), dtype=np.uint8), "filenames": [f"{i}.png" for i in range(count)]}


def _python2_style(obj):
    """A protocol-2 pickle naming numpy.core.multiarray (as the real CIFAR files, written by Python 2
    with NumPy 1, do) whose array bytes are a latin-1 str."""
    class Py2Array:
        def __init__(self, array):
            self.array = array

        def __reduce__(self):
            a = self.array
            return (_pickle._reconstruct, (np.ndarray, (0,), "b"),
                    (1, a.shape, a.dtype, False, a.tobytes().decode("latin1")))

    def convert(value):
        if isinstance(value, np.ndarray):
            return Py2Array(value)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    raw = pickle.dumps(convert(obj), protocol=2)
    return raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def _write_cifar(root, cls, rng, python2=False, counts=(4, 3, 2, 5, 1), test_count=6):
    """Files of a few images each in ``cls``'s layout, and a subclass of ``cls`` whose MD5s are theirs."""
    folder = os.path.join(root, cls.base_folder)
    os.makedirs(folder, exist_ok=True)
    label_key = "labels" if cls is datasets.CIFAR10 else "fine_labels"
    classes = CLASSES if cls is datasets.CIFAR10 else [f"class_{i}" for i in range(100)]
    entries = {}
    train_names = [name for name, _ in cls.train_list]
    for name, count in zip(train_names, counts):
        entries[name] = _batch(rng, count, label_key, len(classes))
    entries[cls.test_list[0][0]] = _batch(rng, test_count, label_key, len(classes))
    entries[cls.meta["filename"]] = {cls.meta["key"]: classes, "num_cases_per_batch": 4}
    for name, entry in entries.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(_python2_style(entry) if python2 else pickle.dumps(entry))
    md5 = {name: _md5(os.path.join(folder, name)) for name in entries}
    local = type(f"Local{cls.__name__}", (cls,), {
        "train_list": [[name, md5[name]] for name in train_names],
        "test_list": [[cls.test_list[0][0], md5[cls.test_list[0][0]]]],
        "meta": dict(cls.meta, md5=md5[cls.meta["filename"]]),
    })
    return local, entries


@pytest.mark.parametrize("python2", [False, True], ids=["python3-pickle", "python2-pickle"])
def test_cifar10_reads_torchvisions_layout(tmp_path, python2):
    pytest.importorskip("PIL")
    local, entries = _write_cifar(tmp_path, datasets.CIFAR10, np.random.default_rng(0), python2)
    train = local(tmp_path)
    expected = np.vstack([entries[name]["data"] for name, _ in local.train_list]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(train.data, expected)
    assert train.targets == sum((entries[name]["labels"] for name, _ in local.train_list), [])
    assert len(train) == 15 and train.classes == CLASSES and train.class_to_idx["cat"] == 3
    image, label = train[7]
    assert image.mode == "RGB" and image.size == (32, 32) and label == train.targets[7]
    np.testing.assert_array_equal(np.asarray(image), expected[7])
    test = local(tmp_path, train=False, transform=transforms.ToTensor())
    assert len(test) == 6
    image, label = test[0]
    assert tuple(image.shape) == (3, 32, 32)
    np.testing.assert_allclose(image.numpy(), entries["test_batch"]["data"][0].reshape(3, 32, 32) / 255, rtol=1e-6)
    images, labels = next(iter(DataLoader(test, batch_size=4)))
    assert tuple(images.shape) == (4, 3, 32, 32) and labels.tolist() == entries["test_batch"]["labels"][:4]
    assert "Split: Test" in repr(test) and "Number of datapoints: 6" in repr(test)


def test_cifar100_uses_fine_labels(tmp_path):
    local, entries = _write_cifar(tmp_path, datasets.CIFAR100, np.random.default_rng(1), counts=(7,), test_count=3)
    train = local(tmp_path)
    assert train.targets == entries["train"]["fine_labels"] and len(train.classes) == 100


def test_missing_or_corrupted_files_are_reported(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use download=True to download it"):
        datasets.CIFAR10(tmp_path)
    local, _ = _write_cifar(tmp_path, datasets.CIFAR10, np.random.default_rng(2))
    with open(os.path.join(tmp_path, local.base_folder, "data_batch_3"), "ab") as f:
        f.write(b"x")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        local(tmp_path)
    # the real dataset's checksums: small generated files are not taken for CIFAR-10
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        datasets.CIFAR10(tmp_path)


def _tarball(tmp_path, cls, rng):
    source = tmp_path / "source"
    local, entries = _write_cifar(source, cls, rng)
    archive = tmp_path / cls.filename
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / cls.base_folder, arcname=cls.base_folder)
    return local, archive


def test_download_fetches_verifies_and_extracts(tmp_path, capsys):
    local, archive = _tarball(tmp_path, datasets.CIFAR10, np.random.default_rng(3))
    downloading = type("Downloading", (local,), {"url": archive.as_uri(), "tgz_md5": _md5(archive)})
    root = tmp_path / "root"
    train = downloading(root, download=True)
    assert len(train) == 15 and (root / local.filename).is_file()
    assert (root / local.base_folder / "data_batch_1").is_file()
    assert "Extracting" in capsys.readouterr().out
    os.remove(archive)  # verified files are not downloaded again
    assert len(downloading(root, download=True)) == 15


def test_download_with_a_wrong_checksum_keeps_nothing(tmp_path):
    local, archive = _tarball(tmp_path, datasets.CIFAR10, np.random.default_rng(4))
    wrong = type("Wrong", (local,), {"url": archive.as_uri(), "tgz_md5": "0" * 32})
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="Checksum mismatch"):
        wrong(root, download=True)
    assert not (root / local.filename).exists() and not (root / local.base_folder).exists()


def test_archives_cannot_write_outside_the_root(tmp_path):
    from tinytorch.vision.datasets.utils import extract_archive

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b"owned"
        info = tarfile.TarInfo("../escaped.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    (tmp_path / "out").mkdir()
    with pytest.raises(RuntimeError, match="outside"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


class _Exploit:
    """Unpickling this with plain pickle would call os.system."""

    def __reduce__(self):
        return (os.system, ("echo owned > /dev/null",))


HOSTILE = {
    "os.system": pickle.dumps({"data": _Exploit()}),
    "builtins.eval": pickle.dumps({"data": type("E", (), {"__reduce__": lambda self: (eval, ("1+1",))})()}),
    "a class": pickle.dumps({"data": np.random.default_rng(0)}),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pickles_are_refused_without_running_anything(tmp_path, name, monkeypatch):
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    path = tmp_path / "data_batch_1"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(pickle.UnpicklingError, match="is forbidden"):
        datasets.cifar._read_batch(str(path))
    assert not called


def _crafted(opcodes):
    return b"\x80\x02" + opcodes + b"."


def test_crafted_array_reconstructions_are_refused(tmp_path):
    ndarray = b"cnumpy\nndarray\n"
    reconstruct = b"cnumpy.core.multiarray\n_reconstruct\n"
    cases = {
        # ndarray((2**40,)): a huge allocation, by calling the class directly
        "call ndarray": ndarray + b"((\x8a\x06\x00\x00\x00\x00\x00\x01ttR",
        # _reconstruct(ndarray, (2**40,), 'b'): the same through the reconstruction
        "huge reconstruct": reconstruct + b"(" + ndarray + b"\x8a\x06\x00\x00\x00\x00\x00\x01\x85U\x01btR",
        # an object array
        "object dtype": b"cnumpy\ndtype\n(U\x02O8K\x00K\x01tR",
    }
    for raw in cases.values():
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            _pickle.load(_crafted(raw))
        path = tmp_path / "data_batch_1"
        path.write_bytes(_crafted(raw))
        with pytest.raises((pickle.UnpicklingError, RuntimeError)):
            datasets.cifar._read_batch(str(path))


MALFORMED = {
    "not a pickle": (b"not a pickle at all", "not a valid CIFAR batch file"),
    "truncated": (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [1]})[:-5], "not a valid CIFAR batch file"),
    "a list": (pickle.dumps([1, 2, 3]), "expected a dict"),
    "narrow data": (pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [1, 2]}), "N x 3072"),
    "float data": (pickle.dumps({"data": np.zeros((2, 3072), np.float64), "labels": [1, 2]}), "N x 3072"),
    "too few labels": (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [1]}), "2 images but 1 labels"),
    "string labels": (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": ["a", "b"]}), "list of ints"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_batches_are_reported_with_the_file(tmp_path, name):
    content, message = MALFORMED[name]
    path = tmp_path / "data_batch_1"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=message) as info:
        datasets.cifar._read_batch(str(path))
    assert str(path) in str(info.value)


def test_the_restricted_loader_reads_what_numpy_pickles():
    value = {"a": np.arange(6, dtype=np.int64).reshape(2, 3), "b": [np.float32(1.5).item(), (1, "x")], "c": np.ones(3, np.bool_)}
    for protocol in (2, 3, 4, 5):
        loaded = _pickle.load(pickle.dumps(value, protocol=protocol))
        np.testing.assert_array_equal(loaded["a"], value["a"])
        np.testing.assert_array_equal(loaded["c"], value["c"])
        assert loaded["b"] == value["b"]
