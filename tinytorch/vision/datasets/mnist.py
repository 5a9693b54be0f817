"""MNIST and Fashion-MNIST with torchvision's API and folder layout (``root/MNIST/raw/``).

The IDX files are read raw or gzipped. An item is ``(image, label)``: the image is a PIL image
(mode "L") when Pillow is installed, else a 28x28 uint8 NumPy array; the label is an int.
``__getitems__`` transforms a whole batch at once when the transform allows it.
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ..._bounded_read import read_at_most
from ..._tensor import Tensor
from ...utils.data import Dataset
from ...utils.data._collate import SampleBatch
from .. import transforms as _transforms
from .utils import download_from_mirrors

# IDX type codes (third byte of the magic number) and their big-endian element types.
_IDX_TYPES = {8: np.uint8, 9: np.int8, 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
_IMAGES_MAGIC, _LABELS_MAGIC = 0x00000803, 0x00000801


def read_idx_file(path):
    """An IDX file (raw or .gz) as a native-endian NumPy array; RuntimeError naming the file when
    it is not a valid IDX file, or is truncated, or its size disagrees with its header.

    The data is read in growing chunks and at most one byte more than the header describes is
    kept (trailing data is counted, not kept), so neither a header claiming billions of images nor
    a small gzip file that expands to gigabytes makes the reader allocate more than the file
    really holds and its header promises."""
    with open(path, "rb") as file:
        if not path.endswith(".gz"):
            return _parse_idx(path, file)
        try:
            return _parse_idx(path, gzip.GzipFile(fileobj=file, mode="rb"))
        except (OSError, EOFError, zlib.error) as error:
            raise RuntimeError(f"{path}: not a valid gzip file ({error})") from None


def _parse_idx(path, stream):
    raw = read_at_most(stream, 4)
    if len(raw) < 4:
        raise RuntimeError(f"{path}: truncated IDX file ({len(raw)} bytes, shorter than the magic number)")
    magic = int.from_bytes(raw[:4], "big")
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or type_code not in _IDX_TYPES or not 1 <= ndim <= 3:
        raise RuntimeError(f"{path}: not an IDX file (magic number {magic:#010x})")
    header = 4 + 4 * ndim
    raw += read_at_most(stream, header - 4)
    if len(raw) < header:
        raise RuntimeError(f"{path}: truncated IDX file ({len(raw)} bytes, shorter than its {header}-byte header)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(_IDX_TYPES[type_code])
    expected = header + math.prod(dims) * dtype.itemsize  # Python ints: a crafted header can't overflow
    payload = read_at_most(stream, expected - header + 1)  # one byte more reveals trailing data
    size = header + len(payload)
    if size > expected:  # count the rest for the message, keeping none of it
        size += read_at_most(stream, float("inf"), keep=False)
    if size != expected:
        raise RuntimeError(
            f"{path}: the header says {'x'.join(map(str, dims))} values of {dtype.name} ({expected} bytes with the "
            f"header) but the file holds {size} bytes ({'truncated' if size < expected else 'trailing data'})"
        )
    try:
        # No copy for bytes (MNIST's images and labels): the array wraps the bytearray read.
        return np.frombuffer(payload, dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)
    except ValueError as error:  # e.g. 0 x 2^30 x 2^30: no bytes, yet NumPy refuses the shape
        raise RuntimeError(f"{path}: the header's dimensions {'x'.join(map(str, dims))} cannot form an array ({error})") from None


def _read_checked(path, magic, ndim, kind):
    array = read_idx_file(path)
    if array.ndim != ndim or array.dtype != np.uint8:
        raise RuntimeError(
            f"{path}: expected an MNIST {kind} file (magic number {magic:#010x}: {ndim}-d uint8), "
            f"found {array.ndim}-d {array.dtype.name} data"
        )
    return array


def read_image_file(path):
    return _read_checked(path, _IMAGES_MAGIC, 3, "image")


def read_label_file(path):
    return _read_checked(path, _LABELS_MAGIC, 1, "label").astype(np.int64)


def _to_image(array):
    """What torchvision gives for one image: a PIL image, or the uint8 array without Pillow."""
    Image = _transforms._pil_image_module()
    return array.copy() if Image is None else Image.fromarray(array)


def _numpy(values):
    return values._data if isinstance(values, Tensor) else np.asarray(values)


class MNIST(Dataset):
    """The MNIST digits: 60,000 training and 10,000 test 28x28 grayscale images.

    ``data`` is a uint8 tensor (N x 28 x 28), ``targets`` an int64 tensor (N). With ``download=True``
    missing files are fetched from ``mirrors`` and checked against torchvision's MD5s.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        split = "train" if train else "t10k"
        paths = [self._find(f"{split}-{kind}-idx{n}-ubyte") for kind, n in (("images", 3), ("labels", 1))]
        missing = [name for name, path in zip((f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"), paths) if path is None]
        if missing:
            raise RuntimeError(
                "Dataset not found. You can use download=True to download it "
                f"(no {' or '.join(missing)}[.gz] in {self.raw_folder})"
            )
        images, labels = read_image_file(paths[0]), read_label_file(paths[1])
        if len(images) != len(labels):
            raise RuntimeError(f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} labels")
        self.data = Tensor._make(images)
        self.targets = Tensor._make(labels)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, name):
        """The path of ``name`` in the raw folder, raw or gzipped; None when neither exists."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self):
        return all(self._find(filename[: -len(".gz")]) is not None for filename, _ in self.resources)

    def download(self):
        """Fetch the files that are missing (raw or gzipped copies already there are kept)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._find(filename[: -len(".gz")]) is None:
                download_from_mirrors(self.mirrors, filename, self.raw_folder, md5)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = _to_image(_numpy(self.data)[index]), int(_numpy(self.targets)[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __getitems__(self, indices):
        """The samples at ``indices``: transformed as one batch when the transform has a batched form
        (a ``SampleBatch`` whose image column is already stacked), else one by one."""
        images = _numpy(self.data)
        batch_transform = _transforms.batched(self.transform) if self.transform is not None else None
        if batch_transform is None or not isinstance(images, np.ndarray):
            return [self[i] for i in indices]
        targets = _numpy(self.targets)[indices].tolist()
        if self.target_transform is not None:
            targets = [self.target_transform(target) for target in targets]
        return SampleBatch([batch_transform(images[indices]), targets])

    def __repr__(self):
        lines = [f"Number of datapoints: {len(self)}", f"Root location: {self.root}", f"Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}")
        return f"Dataset {type(self).__name__}\n" + "\n".join("    " + line for line in lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
