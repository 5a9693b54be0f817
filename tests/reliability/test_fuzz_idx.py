"""Fuzzing the MNIST IDX reader: random bytes, random headers, and mutations and truncations of
valid files, raw and gzipped. The reader returns an array that agrees with its header or raises
the documented RuntimeError naming the file: no other exception, no hang, and no allocation
beyond what the file really holds (a header claiming 10^9 images is refused by a size check).

(``tinytorch.load`` is fuzzed in tests/test_serialization.py.)
"""

import gzip
import math
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tinytorch.vision.datasets import mnist

TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
READERS = [mnist.read_idx_file, mnist.read_image_file, mnist.read_label_file]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def idx(array, type_code=0x08):
    array = np.asarray(array, dtype=TYPES[type_code])
    return struct.pack(">HBB", 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


VALID = [
    idx(np.arange(3 * 4 * 5).reshape(3, 4, 5) % 256),  # images
    idx(np.arange(7) % 10),  # labels
    idx(np.linspace(-2, 2, 6).reshape(2, 3), 0x0D),  # float32
    idx(np.arange(-4, 4).reshape(2, 2, 2), 0x0B),  # int16
    idx(np.zeros((0, 28, 28))),  # no images at all
]


def read(tmp_path, content, compress, reader=mnist.read_idx_file, raw_gzip=False):
    """Write ``content`` (gzipped when ``compress``; ``raw_gzip``: already gzip bytes) and read it.
    Returns the array, or the RuntimeError after checking it names the file; also checks the traced
    memory, which bounds the reader's work (no wall-clock bound: a timed assertion failed on a busy
    CI machine, 0.79 s for a small file while the garbage collector ran under tracemalloc)."""
    path = tmp_path / ("file.gz" if compress else "file")
    path.write_bytes(gzip.compress(content, mtime=0) if compress and not raw_gzip else content)
    described = len(gzip.decompress(content)) if raw_gzip and _is_gzip(content) else len(content)
    tracemalloc.start()
    try:
        result = reader(str(path))
    except RuntimeError as error:
        assert str(path) in str(error), f"the error does not name the file: {error}"
        result = error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    # Never more than a few copies of what the file holds (the reader's chunks, the array and its
    # native-endian copy) plus the gzip machinery: nothing sized by what a header merely claims.
    assert peak < 4 * described + 256 * 2**10, f"{peak} bytes traced for a file of {described} bytes"
    return result


def _is_gzip(content):
    try:
        gzip.decompress(content)
    except Exception:
        return False
    return True


def check_agrees_with_header(array, content):
    """A returned array is exactly what the (decompressed) content's header describes."""
    assert isinstance(array, np.ndarray)
    ndim = content[3]
    dims = struct.unpack(f">{ndim}I", content[4 : 4 + 4 * ndim])
    dtype = np.dtype(TYPES[content[2]])
    assert array.shape == dims and array.dtype == dtype.newbyteorder("=")
    assert array.tobytes() == np.frombuffer(content, dtype, offset=4 + 4 * ndim).astype(array.dtype).tobytes()


def check_reader_result(result, content, reader):
    if reader is mnist.read_label_file:  # a 1-d uint8 file, as int64
        assert result.dtype == np.int64 and content[2:4] == b"\x08\x01"
        check_agrees_with_header(result.astype(np.uint8), content)
    else:
        if reader is mnist.read_image_file:
            assert content[2:4] == b"\x08\x03"
        check_agrees_with_header(result, content)


@FUZZ
@given(content=st.binary(max_size=300), compress=st.booleans(), reader=st.sampled_from(READERS))
def test_random_bytes(tmp_path, content, compress, reader):
    result = read(tmp_path, content, compress, reader)
    if not isinstance(result, RuntimeError):
        check_reader_result(result, content, reader)


@FUZZ
@given(content=st.binary(max_size=300))
def test_random_bytes_named_gz(tmp_path, content):
    """Not gzip at all, or gzip of anything: decompression errors are RuntimeErrors too."""
    result = read(tmp_path, content, compress=True, raw_gzip=True)
    assert isinstance(result, RuntimeError) or _is_gzip(content)


@FUZZ
@given(
    type_code=st.sampled_from(sorted(TYPES)),
    dims=st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 30), min_size=1, max_size=3),
    payload=st.binary(max_size=400),
    compress=st.booleans(),
)
def test_random_headers(tmp_path, type_code, dims, payload, compress):
    """Valid magic numbers with random sizes, up to (2^32 - 1)^3 elements: refused before anything
    of that size is allocated, unless the payload really has that many bytes."""
    content = struct.pack(">HBB", 0, type_code, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + payload
    result = read(tmp_path, content, compress)
    expected = math.prod(dims) * np.dtype(TYPES[type_code]).itemsize
    if len(payload) == expected and _formable(dims, type_code):
        check_agrees_with_header(result, content)
    elif len(payload) == expected:  # no bytes, yet no array has that shape (0 x 2^30 x 2^30)
        assert isinstance(result, RuntimeError) and "cannot form an array" in str(result)
    else:
        assert isinstance(result, RuntimeError)
        assert ("truncated" if len(payload) < expected else "trailing data") in str(result)


def _formable(dims, type_code):
    """Whether NumPy can hold an array of this shape (only asked for empty ones: no allocation)."""
    if math.prod(dims):
        return True
    try:
        np.empty(dims, TYPES[type_code])
    except ValueError:
        return False
    return True


def mutate(content, data):
    """Flip, insert, delete bytes, or truncate, a few times."""
    content = bytearray(content)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        position = data.draw(st.integers(0, max(len(content) - 1, 0)))
        if kind == "flip" and content:
            content[position] ^= data.draw(st.integers(1, 255))
        elif kind == "insert":
            content[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and content:
            del content[position : position + data.draw(st.integers(1, 8))]
        elif kind == "truncate":
            del content[position:]
    return bytes(content)


@FUZZ
@given(original=st.sampled_from(VALID), compress=st.booleans(), reader=st.sampled_from(READERS), data=st.data())
def test_mutations_of_valid_files(tmp_path, original, compress, reader, data):
    content = mutate(original, data)
    result = read(tmp_path, content, compress, reader)
    if not isinstance(result, RuntimeError):
        check_reader_result(result, content, reader)


@FUZZ
@given(original=st.sampled_from(VALID), data=st.data())
def test_mutations_of_the_gzip_bytes(tmp_path, original, data):
    """Damage to the compressed stream itself (CRC, length, deflate blocks)."""
    content = mutate(gzip.compress(original, mtime=0), data)
    result = read(tmp_path, content, compress=True, raw_gzip=True)
    if not isinstance(result, RuntimeError):
        check_agrees_with_header(result, gzip.decompress(content))


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("dims,type_code", [
    ((10**9, 28, 28), 0x08),  # a billion images
    ((2**32 - 1,) * 3, 0x0E),  # the largest header there is: 6e29 float64 values
    ((2**31, 2**31, 4), 0x08),  # 2^64 elements: wraps to 0 in int64 arithmetic
])
def test_a_header_claiming_huge_sizes_is_refused_before_allocating(tmp_path, compress, dims, type_code):
    content = struct.pack(">HBB", 0, type_code, len(dims)) + struct.pack(">3I", *dims) + bytes(784)
    error = read(tmp_path, content, compress)
    assert isinstance(error, RuntimeError) and "truncated" in str(error)
    assert "x".join(map(str, dims)) in str(error)


def test_a_gzip_bomb_is_read_no_further_than_its_header_allows(tmp_path):
    """One image, then 256 MiB of zeros (a 256 KiB file): refused after reading one byte past
    the image, with a few hundred KiB traced."""
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(idx(np.zeros((1, 28, 28))))
        zeros = bytes(2**20)
        for _ in range(256):
            f.write(zeros)
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match="trailing data") as caught:
            mnist.read_idx_file(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"holds {16 + 784 + 256 * 2**20} bytes" in str(caught.value)  # the rest is counted, not kept
    assert peak < 4 * 2**20, f"{peak / 2**20:.1f} MiB traced"


def test_zero_images_of_an_impossible_shape_are_refused(tmp_path):
    """Found by the fuzzer: 0 x 2^30 x 2^30 float64 holds no bytes, yet no array has that shape."""
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(struct.pack(">HBB", 0, 0x0E, 3) + struct.pack(">3I", 0, 2**30, 2**30))
    with pytest.raises(RuntimeError, match="cannot form an array") as info:
        mnist.read_idx_file(str(path))
    assert str(path) in str(info.value)
