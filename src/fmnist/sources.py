"""Where the four files come from: local folders, the keras cache or loader, URLs.

Sources are tried in the order ``params.yaml`` gives. A source that is absent or offline
is skipped with its reason; one whose files exist but fail their check stops everything,
since that is corruption, not absence. Messages name the source's own file or URL, never
the temporary copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from fmnist.errors import DataError
from fmnist.idx import RAW_FILES, read_gz, verify_payload
from fmnist.io import atomic_path


class SourceUnavailable(DataError):
    """A source that does not have the files (absent, offline): the next source is tried."""


KERAS_SOURCE = "keras"  # a source value: the files keras' own loader fetches and caches


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://", "file://"))


def _download(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` to ``dest`` through a temporary file; failures become SourceUnavailable."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_path(dest) as tmp:
            with open(tmp, "wb") as out:
                shutil.copyfileobj(response, out, length=1 << 20)
    except urllib.error.HTTPError as exc:
        raise SourceUnavailable(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise SourceUnavailable(f"{url}: cannot connect ({exc.reason}); offline?") from None
    except TimeoutError:
        raise SourceUnavailable(f"{url}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise SourceUnavailable(f"{url}: download failed ({exc})") from None


def keras_cache_dir() -> Path:
    """Where ``tf.keras.datasets.fashion_mnist`` keeps its files ($KERAS_HOME or ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "datasets" / "fashion-mnist"


def _fill_keras_cache() -> Path:
    """Let keras' own loader put the files in its cache (downloading if it must)."""
    try:
        from keras.datasets import fashion_mnist
    except ImportError:
        raise SourceUnavailable("keras: not installed (pip install '.[tf]' adds it)") from None
    try:
        fashion_mnist.load_data()
    except Exception as exc:  # keras wraps network and file errors in many types
        raise SourceUnavailable(f"keras: its loader failed ({exc})") from None
    return keras_cache_dir()


def _copy_from_source(source: str, dest: Path, timeout: float) -> None:
    """Copy (or download) the four files from one source into ``dest`` and verify them."""
    if source == KERAS_SOURCE:
        source = str(_fill_keras_cache())
    if _is_url(source):
        origins = {s.name: source.rstrip("/") + "/" + s.name for s in RAW_FILES}
        for spec in RAW_FILES:
            _download(origins[spec.name], dest / spec.name, timeout)
    else:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            raise SourceUnavailable(f"{folder}: no such directory")
        missing = [s.name for s in RAW_FILES if not (folder / s.name).is_file()]
        if missing:
            raise SourceUnavailable(f"{folder}: missing {', '.join(missing)}")
        origins = {s.name: str(folder / s.name) for s in RAW_FILES}
        for spec in RAW_FILES:
            shutil.copyfile(folder / spec.name, dest / spec.name)
    for spec in RAW_FILES:
        origin = origins[spec.name]
        verify_payload(read_gz(dest / spec.name, where=origin), spec, origin)


def acquire(sources: tuple[str, ...], dest: Path, timeout: float) -> str:
    """Fill ``dest`` with the four verified files from the first source that has them.

    Returns the source used.
    """
    reasons = []
    for source in sources:
        with tempfile.TemporaryDirectory(dir=dest) as tmp:
            try:
                _copy_from_source(source, Path(tmp), timeout)
            except SourceUnavailable as exc:
                reasons.append(f"  - {exc}")
                continue
            for spec in RAW_FILES:
                (Path(tmp) / spec.name).replace(dest / spec.name)
            return source
    raise DataError(
        "no source had the four Fashion-MNIST files (params.yaml data.sources):\n"
        + "\n".join(reasons)
        + "\nInstall Debian's dataset-fashion-mnist package, or put the files in one of "
        "those directories."
    )
