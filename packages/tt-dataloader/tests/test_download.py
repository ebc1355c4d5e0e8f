"""Downloads from a local file:// archive: checksum, no partial files, safe extraction."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
from tt_dataloader import CIFAR10, download_url, extract_archive, file_md5


def make_tar(path, members):
    """A .tar.gz holding `members`: name -> bytes (a file), ('symlink', target),
    ('hardlink', target) or ('fifo', '')."""
    kinds = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = kinds[content[0]], content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


@pytest.fixture
def cifar_archive(tmp_path, cifar_writer):
    """(url, md5, written) of a tiny cifar-10-python.tar.gz made from generated batches."""
    staging = tmp_path / "staging"
    written = cifar_writer(staging / "cifar-10-batches-py")
    archive = tmp_path / "server" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    return archive.as_uri(), md5, written


def leftovers(root):
    """Hidden temp files or directories (partial downloads, staging dirs) under root."""
    return sorted(p.name for p in root.rglob(".*"))


def test_good_download_extracts_and_loads(tmp_path, cifar_archive, monkeypatch):
    url, md5, written = cifar_archive
    monkeypatch.setattr(CIFAR10, "url", url)
    monkeypatch.setattr(CIFAR10, "md5", md5)
    root = tmp_path / "data"
    test = CIFAR10(root, train=False, download=True)
    assert np.array_equal(test.targets, written["test_batch"][1])
    assert file_md5(root / "cifar-10-python.tar.gz") == md5
    assert (root / "cifar-10-batches-py" / "data_batch_5").is_file()
    assert leftovers(root) == []


def test_download_is_skipped_when_the_data_is_there(tmp_path, cifar_archive, monkeypatch):
    url, md5, _ = cifar_archive
    monkeypatch.setattr(CIFAR10, "url", url)
    monkeypatch.setattr(CIFAR10, "md5", md5)
    root = tmp_path / "data"
    CIFAR10(root, download=True)
    (root / "cifar-10-python.tar.gz").unlink()
    monkeypatch.setattr(CIFAR10, "url", (tmp_path / "gone.tar.gz").as_uri())  # would fail
    assert len(CIFAR10(root, download=True)) == 20
    assert not (root / "cifar-10-python.tar.gz").exists()


def test_bad_checksum_names_both_digests_and_leaves_nothing(tmp_path, cifar_archive,
                                                            monkeypatch):
    url, md5, _ = cifar_archive
    expected = "0" * 32
    monkeypatch.setattr(CIFAR10, "url", url)
    monkeypatch.setattr(CIFAR10, "md5", expected)
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="(?i)md5|checksum") as info:
        CIFAR10(root, download=True)
    assert expected in str(info.value) and md5 in str(info.value)
    assert list(root.iterdir()) == []


def test_failed_download_leaves_no_partial_file(tmp_path):
    with pytest.raises(OSError, match="missing.tar.gz"):
        download_url((tmp_path / "missing.tar.gz").as_uri(), tmp_path / "data", md5="0" * 32)
    assert list((tmp_path / "data").iterdir()) == []


def test_existing_file_with_the_right_md5_is_kept(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"hello")
    md5 = hashlib.md5(b"hello").hexdigest()
    path = download_url(source.as_uri(), tmp_path / "data", md5=md5, progress=False)
    assert path.read_bytes() == b"hello"
    source.unlink()  # a second call must not fetch again
    assert download_url(source.as_uri(), tmp_path / "data", md5=md5) == path


@pytest.mark.parametrize("members, culprit", [
    ({"ok.txt": b"fine", "../evil": b"boom"}, "../evil"),
    ({"/tmp/absolute-evil": b"boom"}, "/tmp/absolute-evil"),
    ({"dir/../../evil": b"boom"}, "dir/../../evil"),
    ({"link": ("symlink", "../../outside")}, "link"),
    ({"link": ("symlink", "/etc/passwd")}, "link"),
    # a symlink's target is relative to its own folder: top/../.. leaves the root
    ({"top/a.txt": b"A", "top/s": ("symlink", "../../a.txt")}, "top/s"),
    # a hard link's target is relative to the archive root
    ({"top/a.txt": b"A", "top/h": ("hardlink", "../top/a.txt")}, "top/h"),
    ({"pipe": ("fifo", "")}, "pipe"),
])
def test_unsafe_members_are_rejected(tmp_path, members, culprit):
    archive = make_tar(tmp_path / "evil.tar.gz", members)
    root = tmp_path / "root" / "inner"
    with pytest.raises(ValueError, match="refusing") as info:
        extract_archive(archive, root)
    assert culprit in str(info.value)
    assert not (tmp_path / "root" / "evil").exists() and not (tmp_path / "evil").exists()
    assert list(root.iterdir()) == []  # nothing extracted, staging removed


def test_safe_archive_with_an_inner_link_extracts(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", {"top/a.txt": b"A", "top/b": ("symlink", "a.txt")})
    placed = extract_archive(archive, tmp_path / "root")
    assert [p.name for p in placed] == ["top"]
    assert (tmp_path / "root" / "top" / "b").read_bytes() == b"A"
    assert leftovers(tmp_path / "root") == []


def test_links_resolve_like_tar_does(tmp_path):
    # symlink "../a.txt" from top/ stays inside; hard link "top/a.txt" names the archive's file
    archive = make_tar(tmp_path / "ok.tar.gz", {"a.txt": b"R", "top/a.txt": b"A",
                                                 "top/s": ("symlink", "../a.txt"),
                                                 "top/h": ("hardlink", "top/a.txt")})
    extract_archive(archive, tmp_path / "root")
    assert (tmp_path / "root" / "top" / "s").read_bytes() == b"R"
    assert (tmp_path / "root" / "top" / "h").read_bytes() == b"A"


def test_corrupt_archive_is_named(tmp_path):
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(b"this is not gzip")
    with pytest.raises(ValueError, match="broken.tar.gz"):
        extract_archive(archive, tmp_path / "root")
