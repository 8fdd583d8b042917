"""Reading and acquiring the dataset: every bad input is a DataError naming the file."""

import functools
import gzip
import hashlib
import http.server
import shutil
import socket
import threading

import numpy as np
import pytest

from fmnist.errors import DataError
from fmnist.idx import IDX_UBYTE_IMAGES, RAW_FILES, load_raw, parse_idx, read_gz, verify_payload
from fmnist.sources import acquire
from fmnist.stages.fetch import fetch

from conftest import idx_bytes, write_gz

# ----------------------------------------------------------------------------- IDX parsing


def test_idx_images_round_trip():
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    np.testing.assert_array_equal(parse_idx(idx_bytes(images), images=True), images)


def test_idx_labels_round_trip():
    labels = np.array([0, 9, 3], dtype=np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels), images=False), labels)


def test_wrong_magic_number_is_named():
    labels = np.zeros(3, dtype=np.uint8)
    with pytest.raises(DataError, match=r"f\.idx: wrong IDX magic number 0x00000803, expected 0x00000801"):
        parse_idx(idx_bytes(labels, magic=IDX_UBYTE_IMAGES), images=False, where="f.idx")


def test_a_payload_shorter_than_its_header_promises_is_named():
    payload = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))[:-5]
    with pytest.raises(DataError, match=r"header promises 2352 bytes .* holds 2347"):
        parse_idx(payload, images=True)


def test_images_that_are_not_28x28_are_refused():
    with pytest.raises(DataError, match="images are 32x32, expected 28x28"):
        parse_idx(idx_bytes(np.zeros((1, 32, 32), dtype=np.uint8)), images=True)


def test_a_label_outside_0_9_is_named_with_its_index():
    with pytest.raises(DataError, match="label 12 at index 2 is outside 0-9"):
        parse_idx(idx_bytes(np.array([1, 2, 12], dtype=np.uint8)), images=False)


def test_a_header_too_short_is_named():
    with pytest.raises(DataError, match="too short for an IDX header"):
        parse_idx(b"\x00\x00", images=False)


# ----------------------------------------------------------------------------- files


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'absent.gz'}: file not found"):
        read_gz(tmp_path / "absent.gz")


def test_a_truncated_gzip_is_named(tmp_path):
    path = write_gz(tmp_path / "x.gz", b"\x01" * 50_000)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=f"{path}: not a complete gzip file"):
        read_gz(path)


def test_a_file_that_is_not_gzip_is_named(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"plain text, not gzip")
    with pytest.raises(DataError, match=f"{path}: not a complete gzip file"):
        read_gz(path)


def test_a_digest_mismatch_names_the_file_and_both_digests():
    spec = RAW_FILES[1]
    with pytest.raises(DataError) as err:
        verify_payload(b"not the labels", spec, "somewhere/train-labels")
    text = str(err.value)
    assert "somewhere/train-labels" in text
    assert spec.payload_md5 in text and hashlib.md5(b"not the labels").hexdigest() in text


def test_load_raw_reads_generated_files_without_digest_check(synthetic_raw):
    raw = load_raw(synthetic_raw, verify=False)
    assert raw.train_images.shape == (20, 28, 28) and raw.test_labels.shape == (10,)


def test_load_raw_refuses_generated_files_by_digest(synthetic_raw):
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: payload MD5"):
        load_raw(synthetic_raw)


def test_image_and_label_counts_that_disagree_are_named(synthetic_raw):
    write_gz(synthetic_raw / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(7, dtype=np.uint8)))
    with pytest.raises(DataError, match="test has 10 images but 7 labels"):
        load_raw(synthetic_raw, verify=False)


def test_the_real_files_load_with_official_shapes(real_raw):
    raw = load_raw(real_raw)
    assert raw.train_images.shape == (60000, 28, 28) and raw.test_images.shape == (10000, 28, 28)
    assert np.bincount(raw.train_labels).tolist() == [6000] * 10
    assert np.bincount(raw.test_labels).tolist() == [1000] * 10


# ----------------------------------------------------------------------------- acquiring


def test_sources_are_tried_in_order_and_absent_ones_skipped(tmp_path, real_raw):
    dest = tmp_path / "raw"
    used = fetch((str(tmp_path / "nowhere"), str(real_raw)), dest, timeout=5)
    assert used == str(real_raw)
    assert sorted(p.name for p in dest.iterdir()) == sorted(s.name for s in RAW_FILES)


def test_an_empty_source_directory_is_skipped_with_its_reason(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError) as err:
        fetch((str(empty), str(tmp_path / "nowhere")), tmp_path / "raw", timeout=5)
    text = str(err.value)
    assert f"{empty}: missing train-images-idx3-ubyte.gz" in text
    assert f"{tmp_path / 'nowhere'}: no such directory" in text
    assert not (tmp_path / "raw").exists()  # nothing half-made left behind


def test_a_corrupt_source_stops_instead_of_falling_through(tmp_path, real_raw, synthetic_raw):
    with pytest.raises(DataError, match="payload MD5"):
        fetch((str(synthetic_raw), str(real_raw)), tmp_path / "raw", timeout=5)
    assert not (tmp_path / "raw").exists()


def test_a_truncated_source_file_is_named_by_its_own_path_not_the_temporary_copy(tmp_path, real_raw):
    source = tmp_path / "source"
    shutil.copytree(real_raw, source)
    broken = source / "t10k-labels-idx1-ubyte.gz"
    broken.write_bytes(broken.read_bytes()[:100])
    with pytest.raises(DataError) as err:
        fetch((str(source),), tmp_path / "raw", timeout=5)
    assert str(err.value).startswith(f"{broken}: not a complete gzip file")
    assert ".tmp" not in str(err.value)


def test_a_failed_fetch_keeps_the_previous_files(tmp_path, real_raw):
    dest = tmp_path / "raw"
    fetch((str(real_raw),), dest, timeout=5)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    with pytest.raises(DataError):
        fetch((str(tmp_path / "nowhere"),), dest, timeout=5)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


@pytest.fixture
def http_server(tmp_path):
    """A file server on 127.0.0.1 serving tmp_path/www; yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_a_url_source_downloads_and_verifies(tmp_path, real_raw, http_server):
    url, root = http_server
    for spec in RAW_FILES:
        shutil.copyfile(real_raw / spec.name, root / spec.name)
    assert acquire((url,), tmp_path, timeout=10) == url
    for spec in RAW_FILES:
        assert (
            gzip.decompress((tmp_path / spec.name).read_bytes())[:4]
            == (gzip.decompress((real_raw / spec.name).read_bytes())[:4])
        )


def test_a_url_serving_bad_files_is_refused(tmp_path, synthetic_raw, http_server):
    url, root = http_server
    for spec in RAW_FILES:
        shutil.copyfile(synthetic_raw / spec.name, root / spec.name)
    with pytest.raises(DataError, match="payload MD5"):
        fetch((url,), tmp_path / "raw", timeout=10)


def test_a_url_serving_a_non_gzip_file_is_named_by_its_url(tmp_path, real_raw, http_server):
    url, root = http_server
    for spec in RAW_FILES:
        shutil.copyfile(real_raw / spec.name, root / spec.name)
    (root / RAW_FILES[0].name).write_text("<html>not found</html>")
    with pytest.raises(DataError, match=f"^{url}/{RAW_FILES[0].name}: not a complete gzip file"):
        fetch((url,), tmp_path / "raw", timeout=10)


def test_a_url_without_the_files_reports_http_404(tmp_path, http_server):
    url, _ = http_server
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: HTTP 404"):
        fetch((url,), tmp_path / "raw", timeout=10)


def test_a_host_that_refuses_connections_is_reported_as_offline(tmp_path):
    with pytest.raises(DataError, match="cannot connect"):
        fetch(("http://127.0.0.1:9",), tmp_path / "raw", timeout=5)


def test_a_server_that_never_answers_times_out(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never replies
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(DataError, match=r"no answer within 0.5 s"):
            fetch((url,), tmp_path / "raw", timeout=0.5)
    finally:
        silent.close()
