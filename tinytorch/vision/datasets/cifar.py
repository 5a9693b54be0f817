"""CIFAR-10 and CIFAR-100 with torchvision's API and folder layout
(``root/cifar-10-batches-py/data_batch_1`` ... ``test_batch``, ``batches.meta``).

The batch files are pickles of dicts of NumPy arrays; they are read with a restricted unpickler
(``_pickle.py``) that can build NumPy arrays and plain containers and nothing else, so a
tampered file cannot run code. An item is ``(image, label)``: a 32x32 RGB PIL image (a uint8
HxWxC NumPy array when Pillow is not installed) and an int.
"""

import os
import pickle

import numpy as np

from .. import transforms as _transforms
from . import _pickle
from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset


class CIFAR10(VisionDataset):
    """The CIFAR-10 images: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    ``data`` is a uint8 array (N x 32 x 32 x 3), ``targets`` a list of ints, ``classes`` the class
    names from ``batches.meta``. Every file is checked against torchvision's MD5 first; with
    ``download=True`` the archive is fetched from ``url``, checked (``tgz_md5``) and extracted.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        self.data = []
        self.targets = []
        for file_name, _ in self.train_list if self.train else self.test_list:
            data, labels = _read_batch(os.path.join(self.root, self.base_folder, file_name))
            self.data.append(data)
            self.targets.extend(labels)
        self.data = np.vstack(self.data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))  # to HWC
        self._load_meta()

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use download=True to download it")
        entry = _load(path)
        names = entry.get(self.meta["key"]) if isinstance(entry, dict) else None
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise RuntimeError(f"{path}: expected a dict whose '{self.meta['key']}' is a list of class names")
        self.classes = names
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index):
        image, target = self.data[index], self.targets[index]
        Image = _transforms._pil_image_module()
        image = image.copy() if Image is None else Image.fromarray(image)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        for filename, md5 in self.train_list + self.test_list:
            if not check_integrity(os.path.join(self.root, self.base_folder, filename), md5):
                return False
        return True

    def download(self):
        """Fetch and extract the archive unless every batch file is already there and verified."""
        if self._check_integrity():
            return
        download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.tgz_md5)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: CIFAR-10's format with 100 classes (``targets`` are the fine labels)."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}


def _load(path):
    try:
        with open(path, "rb") as file:
            return _pickle.load(file, encoding="latin1")
    except _pickle.Forbidden as error:
        raise pickle.UnpicklingError(f"{path}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError, AttributeError, UnicodeDecodeError, OverflowError) as error:
        raise RuntimeError(f"{path}: not a valid CIFAR batch file ({type(error).__name__}: {error})") from None


def _read_batch(path):
    """(uint8 N x 3072 array, list of N int labels) from one batch file; RuntimeError naming the
    file when its contents are not a CIFAR batch."""
    entry = _load(path)
    if not isinstance(entry, dict) or "data" not in entry:
        raise RuntimeError(f"{path}: expected a dict with 'data' and 'labels' (or 'fine_labels'), got {type(entry).__name__}")
    data = entry["data"]
    labels = entry["labels"] if "labels" in entry else entry.get("fine_labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        described = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise RuntimeError(f"{path}: 'data' should be a uint8 array of N x 3072 values, got a {described}")
    if not isinstance(labels, list) or not all(type(label) is int for label in labels):
        raise RuntimeError(f"{path}: 'labels' (or 'fine_labels') should be a list of ints")
    if len(labels) != len(data):
        raise RuntimeError(f"{path}: {len(data)} images but {len(labels)} labels")
    return data, labels
