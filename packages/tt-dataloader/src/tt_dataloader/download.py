"""Fetching and unpacking archives safely: temp files, checksum first, then rename into place.

A download is written to a hidden temp file next to its destination and renamed only when its
md5 matches, so an interrupted or corrupted download never looks like a finished one. An archive
is checked member by member (nothing may land outside the target directory), unpacked into a
temp directory, and its top-level entries are then renamed into place.
"""

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

from tqdm import tqdm

CHUNK_SIZE = 1 << 20  # read and hash 1 MiB at a time: constant memory for any file size


def file_md5(path):
    """The md5 hex digest of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url, out, desc, progress):
    """Stream `url` into the open file `out` with a tqdm bar; return the md5 of the bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.URLError as err:
        raise OSError(f"could not download {url}: {err.reason}") from err
    with response:
        total = response.headers.get("Content-Length")
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                  unit_divisor=1024, desc=desc, disable=not progress) as bar:
            while chunk := response.read(CHUNK_SIZE):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    out.flush()
    os.fsync(out.fileno())
    return digest.hexdigest()


def download_url(url, root, filename=None, md5=None, progress=True):
    """Download `url` to root/filename and return that path; skip it when already there.

    With `md5`, an existing file must match it to be kept, and a new download that does not
    match is deleted and raises RuntimeError naming the expected and actual digests.
    The skip and the temporary file are given; your part: stream the url into the open
    temporary file with _fetch(url, out, filename, progress) (filename is the bar's label),
    check its md5, then os.replace the temporary file onto root/filename (atomic).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    filename = filename or Path(urllib.parse.urlparse(url).path).name
    dest = root / filename
    if dest.is_file() and (md5 is None or file_md5(dest) == md5):
        return dest
    fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{filename}.", suffix=".part")
    try:
        ### BEGIN SOLUTION
        with os.fdopen(fd, "wb") as out:
            actual = _fetch(url, out, filename, progress)
        if md5 is not None and actual != md5:
            raise RuntimeError(f"download of {url} is corrupt: expected md5 {md5}, got md5 "
                               f"{actual}; the partial file was deleted, try again")
        os.replace(tmp, dest)  # atomic: dest is either absent or complete
        ### END SOLUTION
    except BaseException:  # also Ctrl-C: never leave a partial file behind
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def _inside(path, directory):
    return os.path.commonpath([path, directory]) == directory


def check_member(member, dest):
    """Raise ValueError unless tar `member` extracts inside directory `dest`; return None.

    Rejected: absolute names, '..' components, links whose target leaves `dest` (an absolute
    link target always does; a symlink's target is relative to the symlink's own folder, a
    hard link's to the archive root, i.e. `dest`), and anything that is not a regular file,
    a directory or a link (devices, FIFOs). The message names the member (member.name);
    extract_archive adds the archive and "refusing" around it.
    """
    dest = os.path.realpath(dest)
    name = PurePosixPath(member.name)
    ### BEGIN SOLUTION
    target = os.path.realpath(os.path.join(dest, member.name))
    if name.is_absolute() or ".." in name.parts or not _inside(target, dest):
        raise ValueError(f"unsafe path {member.name!r}: it would extract outside {dest}")
    if member.issym() or member.islnk():
        base = os.path.dirname(target) if member.issym() else dest  # hard links: archive-relative
        link = os.path.realpath(os.path.join(base, member.linkname))
        if os.path.isabs(member.linkname) or not _inside(link, dest):
            raise ValueError(f"unsafe link {member.name!r} -> {member.linkname!r}: it points "
                             f"outside {dest}")
    elif not (member.isfile() or member.isdir()):
        raise ValueError(f"unsupported member {member.name!r}: not a file, directory or link")
    ### END SOLUTION


def _unpack(archive, dest):
    """Check every member of the tar archive, then extract them all into `dest`."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                try:
                    check_member(member, dest)
                except ValueError as err:
                    raise ValueError(f"{archive}: refusing to extract: {err}") from None
            if hasattr(tarfile, "data_filter"):  # Python's own safety filter, where available
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    except (tarfile.TarError, EOFError, zlib.error) as err:
        raise ValueError(f"{archive}: not a readable tar archive ({err}); delete it and "
                         f"download again") from err


def _replace(src, dest):
    """Rename src to dest; an existing dest is moved aside first and removed afterwards."""
    if not (dest.exists() or dest.is_symlink()):
        os.replace(src, dest)
        return
    trash = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".old-"))
    try:
        os.replace(dest, trash / dest.name)
        os.replace(src, dest)
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def extract_archive(archive, root):
    """Safely unpack a tar(.gz) archive into `root`; return the top-level paths it created."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".extract-"))
    try:
        _unpack(archive, staging)
        placed = []
        for entry in sorted(staging.iterdir()):
            _replace(entry, root / entry.name)
            placed.append(root / entry.name)
        return placed
    finally:
        shutil.rmtree(staging, ignore_errors=True)
