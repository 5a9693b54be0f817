"""Reading files whose headers may lie: never allocate for more bytes than the file really holds.

``read_at_most`` reads a stream in chunks that grow with what has arrived (``stream.read(n)``
would allocate ``n`` bytes up front, and ``n`` comes from a header), so a header that claims
gigabytes costs nothing unless the gigabytes are there. The checkpoint reader
(``tinytorch.serialization``) and the IDX reader (``tinytorch.vision.datasets.mnist``) use it.
"""

CHUNK = 1 << 16


def read_at_most(stream, count, keep=True):
    """Up to ``count`` bytes of ``stream``, in chunks no larger than what was already read (and at
    least 64 KiB); with ``keep=False`` only their number (the bytes are dropped as they come)."""
    chunks, total = [], 0
    while total < count:
        chunk = stream.read(min(count - total, max(total, CHUNK) if keep else CHUNK))
        if not chunk:
            break
        total += len(chunk)
        if keep:
            chunks.append(chunk)
    return b"".join(chunks) if keep else total
