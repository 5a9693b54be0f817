"""Downloading dataset files: a progress bar, MD5 verification, and no half-written files (each
download goes to a temporary file that is renamed only once it is complete and verified)."""

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request

USER_AGENT = "tinytorch"


def _urlopen(request, timeout):
    """The one place that opens URLs (tests replace it, so they never touch the network)."""
    return urllib.request.urlopen(request, timeout=timeout)


def calculate_md5(fpath, chunk_size=1024 * 1024):
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """The file exists and, when ``md5`` is given, has that checksum."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or check_md5(fpath, md5)


def download_url(url, root, filename=None, md5=None, timeout=60):
    """Download ``url`` to ``root/filename`` with a progress bar, verifying ``md5``; returns the path.

    A file already there with the right checksum is kept. On a checksum mismatch (or any error)
    the partial download is removed and the error raised (RuntimeError for a mismatch).
    """
    root = os.path.expanduser(os.fspath(root))
    filename = filename or os.path.basename(url)
    fpath = os.path.join(root, filename)
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print(f"Using downloaded and verified file: {fpath}")
        return fpath
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with _urlopen(request, timeout) as response:
        _save_response(response, url, fpath, md5)
    return fpath


def _save_response(response, url, fpath, md5, chunk_size=64 * 1024):
    from tqdm import tqdm

    total = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
    handle, temp_path = tempfile.mkstemp(dir=os.path.dirname(fpath), prefix=f".{os.path.basename(fpath)}.", suffix=".part")
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(handle, "wb") as out, tqdm(
            total=int(total) if total else None, unit="B", unit_scale=True, desc=os.path.basename(fpath)
        ) as bar:
            while chunk := response.read(chunk_size):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        if md5 is not None and digest.hexdigest() != md5:
            raise RuntimeError(
                f"Checksum mismatch for {url}: MD5 {digest.hexdigest()}, expected {md5}; the download was removed"
            )
        os.replace(temp_path, fpath)  # atomic: the final name only ever holds a complete, verified file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp_path)
        raise


def download_from_mirrors(mirrors, filename, root, md5=None):
    """Try each mirror in turn; RuntimeError naming every failure when none works."""
    errors = []
    for mirror in mirrors:
        url = f"{mirror}{filename}"
        try:
            print(f"Downloading {url}")
            return download_url(url, root, filename=filename, md5=md5)
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            print(f"Failed to download (trying next):\n{error}\n")
            errors.append(f"{url}: {error}")
    raise RuntimeError(f"Error downloading {filename}:\n" + "\n".join(errors))
