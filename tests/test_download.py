"""aecore.download against a local HTTP server: mirrors, md5 checks, atomic writes, errors."""
import functools
import hashlib
import http.server
import socket
import threading

import pytest

from aecore.data import download as dl
from aecore.data.download import DownloadError, cli_download, download
from aecore.data.idx import read_images_and_labels
from aecore.data.registry import IDX_FILES

from factories import idx_set

FILES = [f for pair in IDX_FILES.values() for f in pair]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def serve():
    """serve(folder) -> base URL of a server on 127.0.0.1 serving that folder; stopped after."""
    servers = []

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def good(tmp_path):
    """A folder with four small, valid MNIST-format files, and their md5 sums."""
    folder = idx_set(tmp_path / "origin", train=6, test=4)
    md5s = {f: hashlib.md5((folder / f).read_bytes()).hexdigest() for f in FILES}
    return folder, md5s


def closed_port_url():
    """A URL on a port that nothing listens on: connection refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in FILES)


def test_download_and_verify(tmp_path, good, serve):
    origin, md5s = good
    dest = download("mnist", tmp_path / "dest", mirrors=[serve(origin)], md5s=md5s, progress=False)
    assert dest == tmp_path / "dest"
    for f in FILES:
        assert (dest / f).read_bytes() == (origin / f).read_bytes()
    assert leftovers(dest) == []
    images, labels = read_images_and_labels(dest / FILES[0], dest / FILES[1])
    assert images.shape == (6, 28, 28) and labels.tolist() == list(range(6))


def test_default_dest_is_cache(tmp_path, good, serve, monkeypatch):
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    origin, md5s = good
    dest = download("fashion-mnist", mirrors=[serve(origin)], md5s=md5s, progress=False)
    assert dest == tmp_path / "cache" / "fashion-mnist" and (dest / FILES[2]).is_file()


def test_first_mirror_404_second_good(tmp_path, good, serve):
    origin, md5s = good
    empty = tmp_path / "empty"
    empty.mkdir()
    mirrors = [serve(empty), serve(origin)]
    dest = download("mnist", tmp_path / "dest", mirrors=mirrors, md5s=md5s, progress=False)
    assert all((dest / f).is_file() for f in FILES)


def test_present_files_are_skipped(tmp_path, good):
    origin, md5s = good
    # every mirror is dead, so this only passes if nothing is fetched
    dest = download("mnist", origin, mirrors=[closed_port_url()], md5s=md5s, progress=False)
    assert dest == origin


def test_md5_mismatch_everywhere(tmp_path, good, serve):
    origin, md5s = good
    wrong = dict(md5s, **{FILES[0]: "0" * 32})
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError, match="md5 mismatch") as info:
        download("mnist", dest, mirrors=[serve(origin), serve(origin)], md5s=wrong, progress=False)
    assert "\n" not in str(info.value) and FILES[0] in str(info.value)
    assert not (dest / FILES[0]).exists()  # never a bad file under the final name
    assert leftovers(dest) == []  # and no temp files


def test_unreachable_mirror_one_line(tmp_path):
    with pytest.raises(DownloadError) as info:
        download("mnist", tmp_path / "dest", mirrors=[closed_port_url()], progress=False,
                 timeout=5)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("could not download train-images-idx3-ubyte.gz")
    assert "refused" in msg.lower() and "AECORE_DATA_DIR" in msg and "four MNIST files" in msg
    assert leftovers(tmp_path / "dest") == []


def test_interrupt_leaves_no_temp_file(tmp_path, good, serve, monkeypatch):
    origin, md5s = good

    def interrupted(url, out, *args):
        out.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(dl, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download("mnist", tmp_path / "dest", mirrors=[serve(origin)], md5s=md5s, progress=False)
    assert list((tmp_path / "dest").iterdir()) == []


def test_unknown_name():
    with pytest.raises(ValueError, match="mnist, fashion-mnist"):
        download("mnist-sample")


def test_cli_download(monkeypatch, capsys, tmp_path):
    def fail(name, dest=None):
        raise DownloadError("could not download x: check your network")

    monkeypatch.setattr(dl, "download", fail)
    assert cli_download("mnist") == 1
    assert capsys.readouterr().err.strip() == "error: could not download x: check your network"
    monkeypatch.setattr(dl, "download", lambda name, dest=None: tmp_path)
    assert cli_download("mnist") == 0
    assert str(tmp_path) in capsys.readouterr().out
