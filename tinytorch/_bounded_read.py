"""Reading files whose headers may lie: never allocate for more bytes than the file really holds.

``read_at_most`` reads a stream in chunks that grow with what has arrived (``stream.read(n)``
would allocate ``n`` bytes up front, and ``n`` comes from a header), so a header that claims
gigabytes costs nothing unless the gigabytes are there. The checkpoint reader
(``tinytorch.serialization``) and the IDX reader (``tinytorch.vision.datasets.mnist``) use it.
"""

CHUNK = 1 << 16
MAX_CHUNK = 1 << 22  # 4 MiB: the bytes in flight beside the growing buffer stay small


def read_at_most(stream, count, keep=True):
    """Up to ``count`` bytes of ``stream`` as a ``bytearray``, in chunks no larger than what was
    already read (at least 64 KiB, at most 4 MiB); with ``keep=False`` only their number (the
    bytes are dropped as they come).

    The chunks are appended to one growing bytearray (a large one grows in place), not joined at
    the end: joining holds every chunk and the joined copy at once, twice the data at the peak
    (MNIST's 47 MB of training images: 94 MB). A bytearray is writable, so NumPy can wrap it
    without a copy."""
    data, total = bytearray() if keep else None, 0
    while total < count:
        chunk = stream.read(min(count - total, min(max(total, CHUNK), MAX_CHUNK) if keep else CHUNK))
        if not chunk:
            break
        total += len(chunk)
        if keep:
            data += chunk
    return data if keep else total
