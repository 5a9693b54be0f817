"""Fuzzing ``tinytorch.load`` with hostile checkpoints: headers drawn by hypothesis (any dtype,
shape and offsets, up to claims of exabytes), mutations and truncations of real checkpoints, and
streams that go on forever or expand from a small gzip file. Read from a path, an in-memory file
or a stream that cannot seek, a file either loads into tensors that agree with its header or
raises the documented RuntimeError naming it, and the load never allocates more than a few copies
of what the file really holds (traced), nor reads past the data its header describes.

(The byte-level fuzzing of the same reader is in tests/test_serialization.py; the IDX reader's
is in test_fuzz_idx.py.)
"""

import gzip
import io
import json
import math
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import tinytorch

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "I32": np.int32, "I64": np.int64,
          "F16": np.float16, "F32": np.float32, "F64": np.float64}
SLACK = 256 * 2**10  # the reader's first 64 KiB chunk, JSON and NumPy bookkeeping


class OneWay(io.RawIOBase):
    """A stream that cannot seek or tell its length (a pipe, a socket), counting what is read."""

    def __init__(self, content):
        self.content, self.position, self.requested = content, 0, 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = len(self.content) - self.position if size is None or size < 0 else size
        self.requested += size
        chunk = self.content[self.position : self.position + size]
        self.position += len(chunk)
        return chunk


def file_bytes(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def load(tmp_path, content, how):
    """Load ``content`` from a path, a BytesIO or a one-way stream; the tensors or the error,
    after checking the error names the file and the traced peak stays within what it holds."""
    if how == "path":
        source = tmp_path / "hostile.safetensors"
        source.write_bytes(content)
        name = str(source)
    else:
        source = io.BytesIO(content) if how == "bytes" else OneWay(content)
        source.name = name = "hostile-stream"
    tracemalloc.start()
    try:
        result = tinytorch.load(source)
    except RuntimeError as error:
        assert name in str(error), f"the error does not name the file: {error}"
        result = error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 4 * len(content) + SLACK, f"{peak} bytes traced for a file of {len(content)} bytes"
    return result


def check_agrees_with_header(result, header, content):
    """A load that succeeds returns each tensor exactly as the header places it in the data."""
    assert isinstance(result, dict) and sorted(result) == sorted(k for k in header if k != "__metadata__")
    (length,) = struct.unpack("<Q", content[:8])
    data = content[8 + length :]
    for key, tensor in result.items():
        entry = header[key]
        begin, end = entry["data_offsets"]
        expected = np.frombuffer(data[begin:end], DTYPES[entry["dtype"]]).reshape(entry["shape"])
        assert tensor.shape == tuple(entry["shape"]) and tensor.numpy().tobytes() == expected.tobytes()


sizes = st.one_of(st.integers(0, 6), st.integers(0, 2**63 - 1), st.sampled_from([2**31, 2**32, 2**62, 10**18]))
entries = st.fixed_dictionaries({
    "dtype": st.sampled_from([*DTYPES, "BF16", "F8_E4M3", "bogus"]),
    "shape": st.lists(sizes, max_size=4),
    "data_offsets": st.lists(sizes, min_size=2, max_size=2),
})


@FUZZ
@given(header=st.dictionaries(st.text(max_size=4), entries, max_size=3), data=st.binary(max_size=64),
       how=st.sampled_from(["path", "bytes", "stream"]))
def test_headers_that_claim_anything(tmp_path, header, data, how):
    content = file_bytes(header, data)
    result = load(tmp_path, content, how)
    if not isinstance(result, RuntimeError):
        check_agrees_with_header(result, header, content)


def consistent_file(draw_shapes):
    """A valid plain safetensors file for the drawn (dtype, shape) list: offsets that tile the data."""
    header, data, position = {}, b"", 0
    for i, (dtype, shape) in enumerate(draw_shapes):
        size = math.prod(shape) * np.dtype(DTYPES[dtype]).itemsize
        header[f"t{i}"] = {"dtype": dtype, "shape": list(shape), "data_offsets": [position, position + size]}
        data += bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        position += size
    return header, data


@FUZZ
@given(tensors=st.lists(st.tuples(st.sampled_from(list(DTYPES)), st.lists(st.integers(0, 5), max_size=3)), max_size=3),
       data=st.data(), how=st.sampled_from(["path", "bytes", "stream"]))
def test_valid_files_then_one_lie(tmp_path, tensors, data, how):
    """A consistent file loads exactly; then one field of its header is replaced by a lie (a huge
    size, an offset past the end) or its data is cut or extended: refused, and cheaply."""
    header, payload = consistent_file(tensors)
    check_agrees_with_header(load(tmp_path, file_bytes(header, payload), how), header, file_bytes(header, payload))
    change = data.draw(st.sampled_from(["shape", "offsets", "cut", "extend"] if header else ["extend"]))
    if change in ("shape", "offsets"):
        entry = header[data.draw(st.sampled_from(sorted(header)))]
        lie = data.draw(st.sampled_from([2**31, 2**40, 10**18, 2**63 - 1]))
        if change == "shape":
            entry["shape"] = entry["shape"] + [lie]
        else:
            entry["data_offsets"][1] = lie
        content = file_bytes(header, payload)
    elif change == "cut":
        content = file_bytes(header, payload)[: data.draw(st.integers(0, len(file_bytes(header, payload)) - 1))]
    else:
        content = file_bytes(header, payload) + data.draw(st.binary(min_size=1, max_size=32))
    result = load(tmp_path, content, how)
    if not isinstance(result, RuntimeError):  # only a lie that changes nothing (e.g. a size-0 tensor's offset) may load
        check_agrees_with_header(result, json.loads(content[8 : 8 + struct.unpack("<Q", content[:8])[0]]), content)


@FUZZ
@given(data=st.data(), how=st.sampled_from(["path", "bytes", "stream"]))
def test_mutations_of_a_tinytorch_checkpoint(tmp_path, data, how):
    """A real checkpoint (a model, an optimizer, metadata), with bytes changed and cut anywhere."""
    model = tinytorch.nn.Linear(3, 2)
    optimizer = tinytorch.optim.Adam(model.parameters())
    model(tinytorch.ones(1, 3)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    tinytorch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, buffer)
    raw = bytearray(buffer.getvalue())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    load(tmp_path, bytes(raw[: data.draw(st.integers(0, len(raw)))]), how)


def test_a_stream_that_never_ends_is_read_only_as_far_as_its_header_goes():
    """A valid header and its 16 bytes of data, then zeros forever: refused after one byte more."""

    class Endless(OneWay):
        def read(self, size=-1):
            assert size is not None and size >= 0, "an unbounded read of an endless stream"
            chunk = super().read(size)
            self.position += size - len(chunk)
            return chunk + bytes(size - len(chunk))

    header = {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    stream = Endless(file_bytes(header, bytes(16)))
    stream.name = "endless"
    with pytest.raises(RuntimeError, match="'endless'.*more bytes of data not covered by any tensor"):
        tinytorch.load(stream)
    assert stream.position <= len(file_bytes(header)) + 16 + 1


def test_a_gzip_bomb_stream_is_not_expanded():
    """64 MiB of zeros after a valid one-tensor file, gzipped to about 64 KiB: the load refuses
    the trailing data having decompressed, and kept, almost none of it."""
    header = {"x": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as bomb:
        bomb.write(file_bytes(header, bytes(8)))
        for _ in range(64):
            bomb.write(bytes(2**20))
    compressed = buffer.getvalue()
    assert len(compressed) < 2**17
    stream = gzip.GzipFile(fileobj=io.BytesIO(compressed), mode="rb")
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match="not covered by any tensor"):
            tinytorch.load(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, f"{peak} bytes traced"
    assert stream.tell() < 2**20  # decompressed no further than the header's data and a chunk


def test_trailing_data_is_counted_in_a_file_and_not_read_from_a_stream(tmp_path):
    content = file_bytes({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, bytes(4 + 12))
    (tmp_path / "f").write_bytes(content)
    with pytest.raises(RuntimeError, match="12 bytes of data not covered by any tensor"):
        tinytorch.load(tmp_path / "f")
    stream = OneWay(content)
    with pytest.raises(RuntimeError, match="more bytes of data not covered by any tensor"):
        tinytorch.load(stream)
    assert stream.position == len(content) - 11  # the data, and one byte to see there is more
