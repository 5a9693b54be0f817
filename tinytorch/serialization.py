"""``save`` / ``load``: checkpoints in the safetensors format, never pickle.

A file is a safetensors file: 8-byte little-endian header length, a JSON header (dtype, shape,
data_offsets of each tensor), then the raw little-endian data. Each tensor is named by its path
in the saved object (``"model.fc.weight"``, ``"optimizer.state.0.exp_avg"``), so a flat state_dict
is an ordinary safetensors file with its own keys. Everything that is not a tensor (nesting,
dict keys, numbers, strings) is described by JSON in the header's ``__metadata__["tinytorch"]``.
Loading only parses JSON and copies bytes: it never runs code.
"""

import json
import math
import os
import secrets
import stat
import struct
from collections import OrderedDict

import numpy as np
import safetensors.numpy

from . import _backend as backend
from ._bounded_read import read_at_most
from ._tensor import Tensor

__all__ = ["save", "load"]

_FORMAT_VERSION = 1
_METADATA_KEY = "tinytorch"
_MAX_HEADER = 100 * 1024 * 1024  # the limit safetensors itself enforces
_MAX_DEPTH = 200
# The dtypes tinytorch has, by safetensors name (BF16, U16, F8_* and others are refused).
_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
    "F16": np.float16, "F32": np.float32, "F64": np.float64,
}


# -- save ----------------------------------------------------------------------------------------
def save(obj, f):
    """Save tensors, numbers, strings, None and dicts/lists/tuples of them to a path or binary file.

    Saving to a path is atomic: the data goes to a temporary file in the same folder, which then
    replaces ``f``, so a crash mid-save leaves the previous file intact."""
    arrays, devices = {}, {}
    structure = _encode(obj, (), arrays, devices, {}, 0)
    metadata = {"format": "pt", _METADATA_KEY: json.dumps({"version": _FORMAT_VERSION, "object": structure}, allow_nan=False)}
    data = _sorted_metadata(safetensors.numpy.save(arrays, metadata=metadata))
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


def _encode(obj, path, arrays, devices, names_by_id, depth):
    """A JSON description of ``obj``; its tensors go into ``arrays`` under dotted-path names."""
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
    if isinstance(obj, Tensor):
        name = names_by_id.get(id(obj))  # the same tensor twice is stored once
        if name is None:
            name = _unique_name(".".join(map(str, path)) or "tensor", arrays)
            names_by_id[id(obj)] = name
            array = backend.to_numpy(obj._data)
            # safetensors stores C-ordered bytes: copy non-contiguous tensors (transposes, strided views).
            arrays[name] = array if array.flags.c_contiguous else array.copy(order="C")
            devices[name] = str(obj.device)
        node = {"tensor": name}
        if devices[name] != "cpu":
            node["device"] = devices[name]
        return node
    if isinstance(obj, dict):
        items = [
            [_encode_key(key), _encode(value, (*path, key), arrays, devices, names_by_id, depth + 1)]
            for key, value in obj.items()
        ]
        return {"ordered_dict" if isinstance(obj, OrderedDict) else "dict": items}
    if isinstance(obj, (list, tuple)):
        values = [_encode(v, (*path, i), arrays, devices, names_by_id, depth + 1) for i, v in enumerate(obj)]
        return values if isinstance(obj, list) else {"tuple": values}
    raise TypeError(
        f"tinytorch.save can't store an object of type {type(obj).__name__}: only tensors, numbers, strings, "
        "None, and dicts, lists and tuples of them (no pickle)"
    )


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
def load(f, map_location=None, weights_only=True):
    """Load what ``save`` wrote (or any safetensors file, as a flat dict of tensors).

    ``map_location``: None (each tensor's saved device), a device or string (every tensor there),
    a dict mapping saved device names to new ones, or ``fn(tensor, saved_device) -> tensor or None``.
    ``weights_only`` is accepted for PyTorch compatibility: loading never runs code either way.
    Raises RuntimeError naming the file when it is truncated, corrupted or not a tinytorch file."""
    name = repr(os.fspath(f)) if not hasattr(f, "read") else repr(getattr(f, "name", "<file object>"))
    raw, trailing = _read(f)
    header, metadata = _parse(raw, name, trailing)
    try:
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
        return _decode(description["object"], arrays, map_location, {}, 0)
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise RuntimeError(f"tinytorch.load: the metadata of {name} is not valid: {error}") from None


def _read(f):
    """The file's bytes up to the end of the data its header describes, and how many bytes follow
    that (-1: some, in a stream of unknown length). Nothing is read, nor allocated, past that
    point plus one byte, and no read asks for more than a regular file has left (or, from a stream,
    than has already arrived): a header claiming terabytes costs only what the file holds."""
    if hasattr(f, "read"):
        return _read_described(lambda count: read_at_most(f, count), None)
    with open(f, "rb") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):  # a pipe or a device: a stream of unknown length
            return _read_described(lambda count: read_at_most(file, count), None)
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


def _decode(node, arrays, map_location, tensors, depth):
    """Rebuild the object that ``_encode`` described, checking every node."""
    if depth > _MAX_DEPTH:
        raise ValueError("nested too deeply")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(v, arrays, map_location, tensors, depth + 1) for v in node]
    if not isinstance(node, dict) or len(node) == 0:
        raise ValueError(f"unexpected node {node!r:.80}")
    if "tensor" in node:
        name, device = node["tensor"], node.get("device", "cpu")
        if not isinstance(name, str) or name not in arrays or not set(node) <= {"tensor", "device"} or not isinstance(device, str):
            raise ValueError(f"bad tensor reference {node!r:.80}")
        key = (name, device)
        if key not in tensors:  # a tensor saved twice comes back as one tensor, as in PyTorch
            tensors[key] = _restore(arrays[name], device, map_location)
        return tensors[key]
    if len(node) != 1:
        raise ValueError(f"unexpected node {node!r:.80}")
    (kind, value), = node.items()
    if kind == "float" and value in ("inf", "-inf", "nan"):
        return float(value)
    if kind == "tuple" and isinstance(value, list):
        return tuple(_decode(v, arrays, map_location, tensors, depth + 1) for v in value)
    if kind in ("dict", "ordered_dict") and isinstance(value, list):
        result = OrderedDict() if kind == "ordered_dict" else {}
        for pair in value:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"bad dict item {pair!r:.80}")
            result[_decode_key(pair[0], depth)] = _decode(pair[1], arrays, map_location, tensors, depth + 1)
        return result
    raise ValueError(f"unexpected node {node!r:.80}")


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
        result = map_location(Tensor._make(array), saved_device)
        if result is not None:
            return result
        target = saved_device
    elif isinstance(map_location, dict):
        target = map_location.get(saved_device, saved_device)
    else:
        target = saved_device if map_location is None else map_location
    target = backend.as_device(target)
    return Tensor._make(backend.to_device(array, target) if target.type != "cpu" else array)
