"""Downloading dataset files: a progress bar, MD5 verification, and no half-written files (each
download goes to a temporary file that is renamed only once it is complete and verified)."""

import contextlib
import gzip
import hashlib
import os
import shutil
import tempfile

USER_AGENT = "tinytorch"


def _urlopen(request, timeout):
    """The one place that opens URLs (tests replace it, so they never touch the network)."""
    import urllib.request  # here, not at import: it loads ssl and OpenSSL (~7 MiB) into every process

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
    import urllib.request

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
        except (OSError, RuntimeError) as error:  # urllib's URLError is an OSError
            print(f"Failed to download (trying next):\n{error}\n")
            errors.append(f"{url}: {error}")
    raise RuntimeError(f"Error downloading {filename}:\n" + "\n".join(errors))


def _safe_members(tar, to_path):
    """The archive's members, refusing any that would land outside ``to_path`` or are links to
    outside it, device files and the like (tarfile's "data" filter, also on Pythons without it)."""
    root = os.path.realpath(to_path)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if os.path.commonpath([root, target]) != root:
            raise RuntimeError(f"refusing to extract {member.name!r}: it would land outside {to_path}")
        if member.issym() or member.islnk():
            link = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname))
            if os.path.commonpath([root, link]) != root:
                raise RuntimeError(f"refusing to extract {member.name!r}: it links outside {to_path}")
        elif not (member.isfile() or member.isdir()):
            raise RuntimeError(f"refusing to extract {member.name!r}: not a regular file or folder")
        yield member


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extract a .tar(.gz/.bz2/.xz), .tgz or .zip archive (or decompress a .gz file) into
    ``to_path`` (default: its folder); returns ``to_path``. Members that would land outside it
    are refused."""
    import tarfile  # here, like urllib: most datasets never extract an archive
    import zipfile

    from_path = os.fspath(from_path)
    to_path = os.path.dirname(from_path) if to_path is None else os.fspath(to_path)
    if tarfile.is_tarfile(from_path):
        with tarfile.open(from_path, "r:*") as tar:
            members = list(_safe_members(tar, to_path))
            if hasattr(tarfile, "data_filter"):
                tar.extractall(to_path, members=members, filter="data")
            else:  # Python before 3.10.12 / 3.11.4: the members were checked above
                tar.extractall(to_path, members=members)
    elif zipfile.is_zipfile(from_path):
        with zipfile.ZipFile(from_path) as archive:
            archive.extractall(to_path)  # ZipFile.extractall strips absolute paths and '..'
    elif from_path.endswith(".gz"):
        target = os.path.join(to_path, os.path.basename(from_path)[: -len(".gz")])
        with gzip.open(from_path, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
    else:
        raise RuntimeError(f"Couldn't detect the type of archive {from_path}: expected a tar, zip or .gz file")
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None, remove_finished=False):
    """``download_url`` (with the MD5 check), then ``extract_archive`` into ``extract_root``."""
    download_root = os.path.expanduser(os.fspath(download_root))
    extract_root = download_root if extract_root is None else extract_root
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)
