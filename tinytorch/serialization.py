"""``save`` / ``load``: checkpoints in the safetensors format, never pickle.

A file is a safetensors file: 8-byte little-endian header length, a JSON header (dtype, shape,
data_offsets of each tensor), then the raw little-endian data. Each tensor (or NumPy array) is
named by its path in the saved object (``"model.fc.weight"``, ``"optimizer.state.0.exp_avg"``), so
a flat state_dict is an ordinary safetensors file with its own keys. Everything that is not a
tensor (nesting, dict keys, numbers, strings) is described by JSON in the header's
``__metadata__["tinytorch"]``. Loading parses JSON and copies bytes.

Whole modules (``save(model)``) are described as a tree: each module by its class's import path,
its plain attributes, and its parameters and buffers, which are named as in its ``state_dict``
(so the tensors of a saved model form its state_dict's safetensors file). A file can name
classes and functions this way (a module's class, ``F.relu`` kept as an attribute). PyTorch's
``weights_only`` rule decides whether ``load`` may use them: with ``weights_only=True`` (the
default, as since PyTorch 2.6) only those allowed by ``add_safe_globals`` / ``safe_globals``,
which needs no import at all; with ``weights_only=False`` it imports each name. Either way it only
looks names up: it never calls what it finds, nor unpickles anything. A module comes back as
``object.__new__(cls)`` with its saved ``__dict__`` (``__init__`` does not run).
"""

import importlib
import json
import math
import os
import pickle
import secrets
import stat
import struct
import sys
import types
from collections import OrderedDict as _OrderedDict

import numpy as np

from . import _backend, _dtypes
from ._bounded_read import read_at_most as _read_at_most
from ._tensor import Tensor as _Tensor
from .nn.modules.module import Module as _Module
from .nn.parameter import Parameter as _Parameter
from .nn.parameter import UninitializedBuffer as _UninitializedBuffer
from .nn.parameter import UninitializedParameter as _UninitializedParameter
from .nn.parameter import is_lazy as _is_lazy

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

_FORMAT_VERSION = 1
_METADATA_KEY = "tinytorch"
_MAX_HEADER = 100 * 1024 * 1024  # the limit safetensors itself enforces
_MAX_DEPTH = 200
# The dtypes tinytorch has, by safetensors name (BF16, F8_* and others are refused).
_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
    "F16": np.float16, "F32": np.float32, "F64": np.float64, "U16": np.uint16, "U32": np.uint32, "U64": np.uint64,
}


# -- safe globals: PyTorch's allowlist for weights_only loads ------------------------------------
_safe_globals = []  # what add_safe_globals allowed: objects, or (object, "module.qualname")


def add_safe_globals(safe_globals):
    """Allow ``load(..., weights_only=True)`` to use these classes and functions (each an object,
    or ``(object, "module.qualname")`` to allow it under another name), as PyTorch's."""
    for entry in safe_globals:
        target = entry[0] if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str) else entry
        if not callable(target):
            raise TypeError(f"add_safe_globals(): expected a class or function, or (class or function, name), got {entry!r}")
    _safe_globals.extend(safe_globals)


def get_safe_globals():
    """The classes and functions ``add_safe_globals`` allowed, in order."""
    return list(_safe_globals)


def clear_safe_globals():
    """Forget every class and function ``add_safe_globals`` allowed."""
    _safe_globals.clear()


class safe_globals:
    """``with safe_globals([Net, nn.Linear]):`` allows these inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._before = list(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _safe_globals[:] = self._before
        return False


def _name_of(entry):
    if isinstance(entry, tuple):
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


# -- save ----------------------------------------------------------------------------------------
def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save tensors, NumPy arrays, numbers, strings, None, dtypes, devices, whole modules
    and dicts/lists/tuples/sets of them to a path or binary file (the pickle arguments are
    accepted for PyTorch's signature and unused: nothing is pickled).

    Saving to a path is atomic: the data goes to a temporary file in the same folder, which then
    replaces ``f``, so a crash mid-save leaves the previous file intact."""
    encoder = _Encoder()
    structure = encoder.encode(obj, (), 0)
    metadata = {"format": "pt", _METADATA_KEY: json.dumps({"version": _FORMAT_VERSION, "object": structure}, allow_nan=False)}
    import safetensors.numpy  # at first use: its Rust extension is 0.8 MiB in every process otherwise

    data = _sorted_metadata(safetensors.numpy.save(encoder.arrays, metadata=metadata))
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomically(os.fspath(f), data)


def _sorted_metadata(data):
    """The same file with ``__metadata__`` in key order: safetensors writes it from a hash map,
    in an order that changes from run to run, and equal checkpoints should be equal bytes."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # safetensors aligns the data to 8 bytes
    return struct.pack("<Q", len(text)) + text + data[8 + length :]


class _Encoder:
    """Describes an object as JSON; its tensors and arrays go into ``arrays`` under dotted-path names."""

    def __init__(self):
        self.arrays, self.devices = {}, {}
        self.names_by_id = {}  # id(tensor or array) -> its name: the same object twice is stored once
        self.modules = {}  # id(module) -> its number, in the order met: later mentions refer to it
        self.kept = []  # what the ids above belong to, alive until the save is done

    def encode(self, obj, path, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"tinytorch.save: object nested deeper than {_MAX_DEPTH} levels")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            obj = float(obj)
            return obj if math.isfinite(obj) else {"float": repr(obj)}  # JSON has no inf/nan
        if isinstance(obj, np.bool_):
            return bool(obj)
        if _is_lazy(obj):
            # A lazy module's parameter before its first forward: no data, only its kind, dtype,
            # device and requires_grad (PyTorch saves and loads these too).
            empty = _Tensor._make(obj._empty())
            node = {"uninitialized": "parameter" if isinstance(obj, _UninitializedParameter) else "buffer",
                    "dtype": empty.dtype.name, "requires_grad": obj.requires_grad}
            if empty.device.type != "cpu":
                node["device"] = str(empty.device)
            return node
        if isinstance(obj, _Tensor):
            name = self.store(obj, obj._data, path)
            node = {"tensor": name}
            if self.devices[name] != "cpu":
                node["device"] = self.devices[name]
            if isinstance(obj, _Parameter):
                node["parameter"] = obj.requires_grad
            return node
        if isinstance(obj, np.ndarray):
            if obj.dtype.name not in _NUMPY_NAMES:
                raise TypeError(f"tinytorch.save can't store a NumPy array of dtype {obj.dtype} (only the dtypes tinytorch has)")
            return {"ndarray": self.store(obj, obj, path)}
        if isinstance(obj, _Module):
            return self.module(obj, path, depth)
        if isinstance(obj, _dtypes.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _backend.device):
            return {"device": str(obj)}
        if isinstance(obj, dict):
            items = [[_encode_key(key), self.encode(value, (*path, key), depth + 1)] for key, value in obj.items()]
            return {"ordered_dict" if isinstance(obj, _OrderedDict) else "dict": items}
        if isinstance(obj, (list, tuple, set, frozenset)):
            values = [self.encode(v, (*path, i), depth + 1) for i, v in enumerate(obj)]
            return values if isinstance(obj, list) else {type(obj).__name__ if type(obj) in _SEQUENCES else "tuple": values}
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)) and _global_path(obj) is not None:
            return {"global": _global_path(obj)}
        raise TypeError(
            f"tinytorch.save can't store an object of type {type(obj).__name__}"
            + (f" (at {'.'.join(map(str, path))})" if path else "")
            + ": only tensors, NumPy arrays, numbers, strings, None, dtypes, devices, nn.Modules, classes and "
            "functions by name, and dicts, lists, tuples and sets of them (no pickle)"
        )

    def store(self, owner, data, path):
        """The name under which ``data`` (of the tensor or array ``owner``) is stored."""
        name = self.names_by_id.get(id(owner))
        if name is None:
            name = _unique_name(".".join(map(str, path)) or "tensor", self.arrays)
            self.names_by_id[id(owner)] = name
            self.kept.append(owner)
            array = _backend.to_numpy(data)
            # safetensors stores C-ordered bytes: copy non-contiguous tensors (transposes, strided views).
            self.arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
            self.devices[name] = str(_backend.device_of(data))
        return name

    def module(self, module, path, depth):
        """A module as its class's import path and its ``__dict__``: parameters, buffers and
        submodules named as in ``state_dict``, plain attributes by their own names. A module met
        before (shared, or a cycle) is a reference to its number."""
        if id(module) in self.modules:
            return {"same_module": self.modules[id(module)]}
        cls = type(module)
        where = _global_path(cls)
        if where is None:
            raise TypeError(f"tinytorch.save can't store a module of class {cls.__qualname__}: it must be importable by name (not defined inside a function)")
        self.modules[id(module)] = len(self.modules)
        self.kept.append(module)
        self.name_tree(module, path)
        state = []
        for attribute, value in vars(module).items():
            if attribute in _TREE:
                items = [[key, self.encode(item, (*path, key), depth + 1)] for key, item in value.items()]
                node = {"ordered_dict" if isinstance(value, _OrderedDict) else "dict": items}
            else:
                node = self.encode(value, (*path, attribute), depth + 1)
            state.append([attribute, node])
        return {"module": where, "state": state}

    def name_tree(self, module, path):
        """Give the parameters and buffers of a module tree their state_dict names, in its order."""
        for group in ("_parameters", "_buffers"):
            for key, tensor in vars(module).get(group, {}).items():
                if _is_lazy(tensor):
                    raise TypeError(
                        f"tinytorch.save can't store the lazy module {type(module).__qualname__}"
                        + (f" (at {'.'.join(map(str, path))})" if path else "")
                        + " before its first forward: its shape-inferring hooks are bound methods, which this "
                        "format does not store. Save its state_dict() (uninitialized parameters are kept), or run "
                        "a batch through it first"
                    )
                if tensor is not None:
                    self.store(tensor, tensor._data, (*path, key))
        for key, child in vars(module).get("_modules", {}).items():
            if child is not None:
                self.name_tree(child, (*path, key))


_SEQUENCES = (tuple, set, frozenset)
_NUMPY_NAMES = {d.numpy.name for d in _dtypes.ALL}


def _global_path(obj):
    """[module, qualname] of a class or function that this name gives back when imported, else
    None (a lambda, a function defined inside another)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return [module, qualname] if found is obj else None


# The attributes of a module whose values are the module tree itself.
_TREE = ("_parameters", "_buffers", "_modules")


def _encode_key(key):
    if key is None or isinstance(key, (bool, int, str)):
        return key
    if isinstance(key, float) and math.isfinite(key):
        return key
    if isinstance(key, tuple):
        return {"tuple": [_encode_key(k) for k in key]}
    raise TypeError(f"tinytorch.save can't store a dict key of type {type(key).__name__}")


def _unique_name(name, taken):
    if name not in taken and name != "__metadata__":
        return name
    n = 1
    while f"{name}#{n}" in taken:
        n += 1
    return f"{name}#{n}"


def _write_atomically(path, data):
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise RuntimeError(f"Parent directory {folder} does not exist.")  # PyTorch's error
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 gives the file the usual permissions (umask applies), unlike mkstemp's 0o600.
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); not possible, nor needed, on Windows."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- load ----------------------------------------------------------------------------------------
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what ``save`` wrote (or any safetensors file, as a flat dict of tensors).

    ``map_location``: None (each tensor's saved device), a device or string (every tensor there),
    a dict mapping saved device names to new ones, or ``fn(tensor, saved_device) -> tensor or None``.
    ``weights_only`` (True when None, as in PyTorch >= 2.6): a file that names classes or functions
    (a whole module) loads only when ``add_safe_globals`` allowed each of them, else
    ``pickle.UnpicklingError`` with PyTorch's message; ``weights_only=False`` imports them by name.
    Tensors, arrays, numbers, strings, dtypes, devices and containers load either way.
    Raises RuntimeError naming the file when it is truncated, corrupted or not a tinytorch file."""
    weights_only = True if weights_only is None else weights_only
    if pickle_module is not None and weights_only:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    name = repr(os.fspath(f)) if not hasattr(f, "read") else repr(getattr(f, "name", "<file object>"))
    raw, trailing = _read(f)
    header, metadata = _parse(raw, name, trailing)
    try:
        import safetensors.numpy

        arrays = safetensors.numpy.load(raw) if header else {}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: B036 - a Rust panic is a BaseException; the header was checked, so this is a last line of defence
        raise RuntimeError(f"tinytorch.load: {name} is corrupted: {error}") from None
    if metadata is None or _METADATA_KEY not in metadata:
        # A safetensors file from elsewhere: its tensors, in header order.
        return {key: _restore(arrays[key], "cpu", map_location) for key in header}
    try:
        description = json.loads(metadata[_METADATA_KEY])
        if not isinstance(description, dict) or description.get("version") != _FORMAT_VERSION:
            raise ValueError(f"unknown format version {description.get('version') if isinstance(description, dict) else None!r}")
        return _Decoder(arrays, map_location, weights_only).decode(description["object"], 0)
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise RuntimeError(f"tinytorch.load: the metadata of {name} is not valid: {error}") from None


def _read(f):
    """The file's bytes up to the end of the data its header describes, and how many bytes follow
    that (-1: some, in a stream of unknown length). Nothing is read, nor allocated, past that
    point plus one byte, and no read asks for more than a regular file has left (or, from a stream,
    than has already arrived): a header claiming terabytes costs only what the file holds."""
    if hasattr(f, "read"):
        return _read_described(lambda count: bytes(_read_at_most(f, count)), None)
    with open(f, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):  # a pipe or a device: a stream of unknown length
            return _read_described(lambda count: bytes(_read_at_most(file, count)), None)
        size = status.st_size
        return _read_described(lambda count: file.read(max(0, min(count, size - file.tell()))), size)


def _read_described(read, size):
    raw = read(8)
    if len(raw) < 8:
        return raw, 0
    (length,) = struct.unpack("<Q", raw)
    if length > _MAX_HEADER:  # _parse reports it; don't ask for that much
        return raw, 0
    raw += read(length)
    if len(raw) < 8 + length:
        return raw, 0
    end = _described_end(raw[8:])
    raw += read(end + (1 if size is None else 0))
    if size is not None:
        return raw, max(0, size - len(raw))
    if len(raw) > 8 + length + end:  # the one byte more: the stream goes on past the data
        return raw[:-1], -1
    return raw, 0


def _described_end(header_bytes):
    """Where the data the header describes ends: the largest well-formed end offset (``_parse``
    checks every entry properly; a malformed header only needs not to make us read more)."""
    try:
        header = json.loads(header_bytes)
    except (ValueError, RecursionError):
        return 0
    if not isinstance(header, dict):
        return 0
    ends = (entry.get("data_offsets") for key, entry in header.items() if key != "__metadata__" and isinstance(entry, dict))
    return max((offsets[1] for offsets in ends if isinstance(offsets, list) and len(offsets) == 2 and _is_size(offsets[1])), default=0)


def _parse(raw, name, trailing=0):
    """Check the header before any of it reaches safetensors (``trailing``: bytes past ``raw``,
    -1 for some); returns (tensor entries, metadata)."""

    def fail(what):
        raise RuntimeError(f"tinytorch.load: {name} is not a valid tinytorch/safetensors file: {what}")

    if len(raw) < 8:
        fail(f"bad header length: the file has only {len(raw)} bytes (truncated?)")
    (length,) = struct.unpack("<Q", raw[:8])
    if length > len(raw) - 8 or length > _MAX_HEADER:
        fail(f"bad header length {length}: only {len(raw) - 8} bytes follow it (truncated or corrupted)")
    try:
        header = json.loads(raw[8 : 8 + length].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as error:
        fail(f"header not JSON ({error})")
    if not isinstance(header, dict):
        fail("header not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and (
        not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values())
    ):
        fail("__metadata__ is not a map of strings to strings")
    data_size = len(raw) - 8 - length
    spans = []
    for key, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {key!r}: entry must have exactly dtype, shape and data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _DTYPES:
            fail(f"tensor {key!r}: unknown dtype {dtype!r} (tinytorch reads {', '.join(_DTYPES)})")
        if not isinstance(shape, list) or len(shape) > 64 or not all(_is_size(s) for s in shape):
            fail(f"tensor {key!r}: shape {shape!r} is not a list of sizes")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_size(o) for o in offsets):
            fail(f"tensor {key!r}: data_offsets {offsets!r} are not two sizes")
        begin, end = offsets
        if not begin <= end <= data_size:
            fail(f"tensor {key!r}: data_offsets {offsets} past the end of the data ({data_size} bytes)")
        if end - begin != math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize:
            fail(f"tensor {key!r}: {end - begin} bytes of data for shape {shape} and dtype {dtype}")
        spans.append((begin, end))
    position = 0
    for begin, end in sorted(spans):  # the tensors must tile the data exactly, as safetensors requires
        if begin != position:
            fail("tensor data overlaps or has gaps")
        position = end
    if position != data_size or trailing:
        extra = "more" if trailing < 0 else data_size - position + trailing
        fail(f"{extra} bytes of data not covered by any tensor")
    return header, metadata


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _is_size(value):
    return type(value) is int and 0 <= value < 2**63


class _Decoder:
    """Rebuilds the object that ``_Encoder`` described, checking every node."""

    def __init__(self, arrays, map_location, weights_only):
        self.arrays, self.map_location, self.weights_only = arrays, map_location, weights_only
        self.tensors = {}  # (name, device) -> the tensor: a tensor saved twice comes back as one, as in PyTorch
        self.modules = []  # the modules rebuilt so far, by number (a "same_module" node refers to one)

    def decode(self, node, depth):
        if depth > _MAX_DEPTH:
            raise ValueError("nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise ValueError(f"unexpected node {node!r:.80}")
        if "tensor" in node:
            return self.tensor(node)
        if "uninitialized" in node:
            return self.uninitialized(node)
        if "module" in node:
            return self.module(node, depth)
        if len(node) != 1:
            raise ValueError(f"unexpected node {node!r:.80}")
        (kind, value), = node.items()
        if kind == "float" and value in ("inf", "-inf", "nan"):
            return float(value)
        if kind in ("tuple", "set", "frozenset") and isinstance(value, list):
            return {"tuple": tuple, "set": set, "frozenset": frozenset}[kind](self.decode(v, depth + 1) for v in value)
        if kind in ("dict", "ordered_dict") and isinstance(value, list):
            result = _OrderedDict() if kind == "ordered_dict" else {}
            for pair in value:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ValueError(f"bad dict item {pair!r:.80}")
                result[_decode_key(pair[0], depth)] = self.decode(pair[1], depth + 1)
            return result
        if kind == "ndarray" and isinstance(value, str) and value in self.arrays:
            array = self.arrays[value]
            return array.astype(array.dtype.newbyteorder("=")) if array.dtype.byteorder == ">" else array
        if kind == "dtype" and isinstance(value, str) and value in _DTYPE_NAMES:
            return _DTYPE_NAMES[value]
        if kind == "device" and isinstance(value, str):
            return _backend.device(value)
        if kind == "global":
            return self.named(value, "global")
        if kind == "same_module" and type(value) is int and 0 <= value < len(self.modules):
            return self.modules[value]
        raise ValueError(f"unexpected node {node!r:.80}")

    def tensor(self, node):
        name, device = node["tensor"], node.get("device", "cpu")
        parameter = node.get("parameter")
        if (
            not isinstance(name, str) or name not in self.arrays or not set(node) <= {"tensor", "device", "parameter"}
            or not isinstance(device, str) or parameter not in (None, True, False)
        ):
            raise ValueError(f"bad tensor reference {node!r:.80}")
        key = (name, device)
        if key not in self.tensors:
            tensor = _restore(self.arrays[name], device, self.map_location)
            self.tensors[key] = tensor if parameter is None else _Parameter(tensor, requires_grad=parameter)
        return self.tensors[key]

    def uninitialized(self, node):
        kind, dtype, device = node["uninitialized"], node.get("dtype"), node.get("device", "cpu")
        requires_grad = node.get("requires_grad")
        if (
            kind not in ("parameter", "buffer") or dtype not in _DTYPE_NAMES or not isinstance(device, str)
            or requires_grad not in (True, False) or not set(node) <= {"uninitialized", "dtype", "device", "requires_grad"}
        ):
            raise ValueError(f"bad uninitialized tensor {node!r:.80}")
        dtype = _DTYPE_NAMES[dtype]
        target = _restore(np.empty(0, _dtypes.to_numpy_dtype(dtype)), device, self.map_location).device
        cls = _UninitializedParameter if kind == "parameter" else _UninitializedBuffer
        return cls(requires_grad=requires_grad, device=target, dtype=dtype)

    def named(self, where, kind):
        """The class or function a file names, as ``weights_only`` allows: from the safe globals
        (no import) or, with ``weights_only=False``, imported. Nothing found is ever called."""
        if not (isinstance(where, list) and len(where) == 2 and all(isinstance(part, str) and part for part in where)):
            raise ValueError(f"bad {kind} reference {where!r:.80}")
        module, qualname = where
        full = f"{module}.{qualname}"
        for entry in reversed(_safe_globals):
            if _name_of(entry) == full:
                return entry[0] if isinstance(entry, tuple) else entry
        if self.weights_only:
            raise pickle.UnpicklingError(_weights_only_message(full))
        found = importlib.import_module(module)
        for part in qualname.split("."):
            try:
                found = getattr(found, part)
            except AttributeError:
                raise AttributeError(f"tinytorch.load: can't get attribute '{qualname}' on {found!r}: the file names {full}") from None
        if not isinstance(found, (type, types.FunctionType, types.BuiltinFunctionType)):
            raise TypeError(f"tinytorch.load: {full} is not a class or function")
        return found

    def module(self, node, depth):
        if set(node) != {"module", "state"} or not isinstance(node["state"], list):
            raise ValueError(f"bad module {node!r:.80}")
        cls = self.named(node["module"], "module")
        if not (isinstance(cls, type) and issubclass(cls, _Module)):
            raise TypeError(f"tinytorch.load: {'.'.join(node['module'])} is not a tinytorch.nn.Module")
        module = object.__new__(cls)  # as unpickling does: __init__ does not run
        self.modules.append(module)  # before its attributes, which may refer back to it
        state = {}
        for pair in node["state"]:
            if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
                raise ValueError(f"bad module attribute {pair!r:.80}")
            state[pair[0]] = self.decode(pair[1], depth + 1)
        if not all(isinstance(state.get(name), dict) for name in _TREE):
            raise ValueError(f"module {'.'.join(node['module'])} lacks its parameters, buffers or submodules")
        module.__dict__.update(state)
        return module


_DTYPE_NAMES = {d.name: d for d in _dtypes.ALL}


def _weights_only_message(name):
    """PyTorch's message for a global that a weights_only load does not allow."""
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two options, do those steps only if "
        "you trust the source of the checkpoint. \n\t(1) In PyTorch 2.6, we changed the default value of the "
        "`weights_only` argument in `torch.load` from `False` to `True`. Re-running `tinytorch.load` with `weights_only` "
        "set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you got the file "
        "from a trusted source.\n\t(2) Alternatively, to load with `weights_only=True` please check the recommended steps "
        f"in the following error message.\n\tWeightsUnpickler error: Unsupported global: GLOBAL {name} was not an allowed "
        f"global by default. Please use `tinytorch.serialization.add_safe_globals([{name}])` or the "
        f"`tinytorch.serialization.safe_globals([{name}])` context manager to allowlist this global if you trust this "
        "class/function."
    )


def _decode_key(key, depth):
    if key is None or isinstance(key, (bool, int, float, str)):
        return key
    if isinstance(key, dict) and set(key) == {"tuple"} and isinstance(key["tuple"], list) and depth < _MAX_DEPTH:
        return tuple(_decode_key(k, depth + 1) for k in key["tuple"])
    raise ValueError(f"bad dict key {key!r:.80}")


def _restore(array, saved_device, map_location):
    """A tensor for a loaded array, on the device ``map_location`` picks."""
    if array.dtype.byteorder == ">":  # safetensors data is little-endian; a big-endian host swaps it
        array = array.astype(array.dtype.newbyteorder("="))
    if callable(map_location):
        result = map_location(_Tensor._make(array), saved_device)
        if result is not None:
            return result
        target = saved_device
    elif isinstance(map_location, dict):
        target = map_location.get(saved_device, saved_device)
    else:
        target = saved_device if map_location is None else map_location
    target = _backend.as_device(target)
    return _Tensor._make(_backend.to_device(array, target) if target.type != "cpu" else array)
