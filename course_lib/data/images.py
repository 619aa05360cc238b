"""Image datasets as NumPy arrays, shaped like ``keras.datasets``.

- :func:`load_mnist`, :func:`load_fashion_mnist`: ``uint8`` ``(N, 28, 28)`` images and ``uint8``
  ``(N,)`` labels, parsed from the IDX files with NumPy.
- :func:`load_cifar10`: ``uint8`` ``(N, 32, 32, 3)`` images and ``uint8`` ``(N, 1)`` labels, from
  the mirror's JPEG tar or from the canonical python tarball; the decoded arrays are cached as
  ``.npy`` files in the cache folder, keyed by the source file's sha256.
- :func:`load_cats_vs_dogs`, :func:`cats_vs_dogs_files`: 2 000 train + 2 000 test photos, as
  resized arrays or as a table of file paths for ``tf.data`` pipelines.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._validate import check_shape, positive_int
from ..files import staged_folder
from ._util import SHUFFLE_SEED, fixed_permutation, load_arrays, save_arrays
from .fetch import Located, cache_folder, locate

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CIFAR10_CLASSES", "CATS_VS_DOGS_CLASSES", "MNIST_CLASSES", "FASHION_MNIST_CLASSES",
    "load_mnist", "load_fashion_mnist", "load_cifar10", "load_cats_vs_dogs", "cats_vs_dogs_files",
    "read_idx",
]

log = logging.getLogger(__name__)

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES: tuple[str, ...] = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                          "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
#: CIFAR-10 class names in label order (the order of ``keras.datasets.cifar10``).
CIFAR10_CLASSES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                    "horse", "ship", "truck")
#: Cats vs dogs class names in label order: 0 = cat, 1 = dog.
CATS_VS_DOGS_CLASSES: tuple[str, ...] = ("cat", "dog")

_IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------- IDX (MNIST family)

def read_idx(path: Path, expected_ndim: int | None = None) -> np.ndarray:
    """Parse an IDX file (gzip-compressed or not) of unsigned bytes into a ``uint8`` array.

    The header is validated: two zero bytes, type code ``0x08`` (unsigned byte), the number of
    dimensions, one big-endian ``uint32`` per dimension, and a payload of exactly their product.

    Raises:
        ValueError: the file is not a valid ``uint8`` IDX file (the message names the file).
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: damaged gzip data ({exc})") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    if raw[2] != 0x08:
        raise ValueError(f"{path}: IDX type code 0x{raw[2]:02x} is not 0x08 (unsigned byte)")
    ndim = raw[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"{path}: IDX file has {ndim} dimensions, expected {expected_ndim} "
                         f"(magic 0x{int.from_bytes(raw[:4], 'big'):08x})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: IDX header truncated")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if len(raw) - header != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"{path}: IDX payload is {len(raw) - header} bytes, the header {shape} "
                         f"announces {int(np.prod(shape, dtype=np.int64))}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load_idx_dataset(name: str) -> Arrays:
    loc = locate(name)
    key = loc.source_hash(_IDX_FILES[0])[:16]
    folder = cache_folder(loc.spec, create=True) / f"arrays-{loc.layout}-{key}"
    arrays = load_arrays(folder)
    if arrays is None:
        x_train, y_train, x_test, y_test = (read_idx(loc[f], 3 if "images" in f else 1) for f in _IDX_FILES)
        for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
            if x.shape[0] != y.shape[0] or x.shape[1:] != (28, 28):
                raise ValueError(f"{name} {split}: {x.shape[0]} images of shape {x.shape[1:]} but {y.shape[0]} labels")
        arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
        save_arrays(folder, arrays)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist() -> Arrays:
    """MNIST digits like ``keras.datasets.mnist.load_data()``.

    The parsed arrays are cached as ``.npy`` files in ``cache_dir()/mnist/``.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``uint8`` images ``(60000, 28, 28)`` and
        ``(10000, 28, 28)``, ``uint8`` labels ``(60000,)`` and ``(10000,)`` (0-9), in file order.
    """
    return _load_idx_dataset("mnist")


def load_fashion_mnist() -> Arrays:
    """Fashion-MNIST like ``keras.datasets.fashion_mnist.load_data()`` (class names in
    :data:`FASHION_MNIST_CLASSES`); shapes and dtypes as :func:`load_mnist`."""
    return _load_idx_dataset("fashion_mnist")


# --------------------------------------------------------------------------- CIFAR-10

_CIFAR_JPG = re.compile(r"^(?:\./)?cifar10_jpg/(train|test)/([a-z]+)/(\d+)\.jpg$")


def _jpeg_frame(data: bytes) -> tuple[int, int, int, int] | None:
    """``(marker, height, width, components)`` of a JPEG's start-of-frame segment, or None."""
    i = 2
    while i + 9 < len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return (marker, int.from_bytes(data[i + 5:i + 7], "big"),
                    int.from_bytes(data[i + 7:i + 9], "big"), data[i + 9])
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def _decode_rgb(data: bytes, where: str) -> np.ndarray:
    """Decode an image to ``uint8`` RGB pixels (a fast path for baseline 3-channel JPEGs)."""
    from PIL import Image

    try:
        frame = _jpeg_frame(data) if data[:2] == b"\xff\xd8" else None
        if frame is not None and frame[0] == 0xC0 and frame[3] == 3:
            # Baseline YCbCr JPEG: run libjpeg directly, skipping PIL's header parsing (2x faster).
            return np.asarray(Image.frombytes("RGB", (frame[2], frame[1]), data, "jpeg", "RGB", ""))
        with Image.open(io.BytesIO(data)) as img:
            return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except Exception as exc:  # PIL raises many types for bad data
        raise ValueError(f"cannot decode image {where}: {exc}") from exc


def _cifar_from_jpeg_tar(path: Path, limits: dict[str, int | None] | None = None) -> dict[str, np.ndarray]:
    """Decode the mirror's ``cifar10_jpg/{train,test}/<class>/<n>.jpg`` tar (15-20 s of CPU for all).

    The order is fixed before anything is decoded: sorted by class and file number, then a fixed
    shuffle mixes the classes. ``limits`` (split -> n) keeps only the first n of a split in that
    order, and only those images are decoded.
    """
    found: dict[str, list[tuple[int, int, bytes, str]]] = {"train": [], "test": []}
    class_index = {c: i for i, c in enumerate(CIFAR10_CLASSES)}
    with tarfile.open(path, "r|*") as tar:
        for member in tar:
            match = _CIFAR_JPG.match(member.name)
            if not member.isfile() or not match:
                continue
            split, cls, number = match.groups()
            if cls not in class_index:
                raise ValueError(f"{path}: unknown CIFAR-10 class folder {cls!r} ({member.name})")
            found[split].append((class_index[cls], int(number), tar.extractfile(member).read(), member.name))
    out: dict[str, np.ndarray] = {}
    for split, items in found.items():
        items.sort(key=lambda t: (t[0], t[1]))          # deterministic: class, then file number
        order = fixed_permutation(len(items), SHUFFLE_SEED)  # then a fixed shuffle mixes classes
        limit = (limits or {}).get(split)
        if limit is not None:
            order = order[:limit]
        images = []
        for i in order:
            image = _decode_rgb(items[i][2], f"{items[i][3]} in {path}")
            if image.shape != (32, 32, 3):
                raise ValueError(f"{path}: {items[i][3]} is {image.shape}, expected (32, 32, 3)")
            images.append(image)
        out[f"x_{split}"] = np.stack(images) if images else np.zeros((0, 32, 32, 3), np.uint8)
        out[f"y_{split}"] = np.array([items[i][0] for i in order], dtype=np.uint8).reshape(-1, 1)
    return out


def _cifar_from_python_tar(path: Path) -> dict[str, np.ndarray]:
    """Read the canonical ``cifar-10-python.tar.gz`` (pickled batches, as Keras does).

    Only called on a file whose sha256 matched the registry, so unpickling it is safe.
    """
    import pickle

    batches: dict[str, dict] = {}
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and (base.startswith("data_batch_") or base == "test_batch"):
                batches[base] = pickle.load(tar.extractfile(member), encoding="bytes")  # noqa: S301

    def stack(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        data = np.concatenate([np.asarray(batches[n][b"data"], dtype=np.uint8) for n in names])
        labels = np.concatenate([np.asarray(batches[n][b"labels"], dtype=np.uint8) for n in names])
        return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels.reshape(-1, 1)

    train_names = sorted((n for n in batches if n.startswith("data_batch_")), key=lambda n: int(n.rsplit("_", 1)[1]))
    if not train_names or "test_batch" not in batches:
        raise ValueError(f"{path}: no data_batch_* / test_batch members; not the CIFAR-10 python tarball")
    x_train, y_train = stack(train_names)
    x_test, y_test = stack(["test_batch"])
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def load_cifar10(num_train: int | None = None, num_test: int | None = None) -> Arrays:
    """CIFAR-10 like ``keras.datasets.cifar10.load_data()``.

    From the mirror the images come from the JPEG re-encoding (not bit-exact to the python
    batches), in a fixed order: sorted by class and file number, then shuffled with a fixed seed
    so classes are mixed. From a download they are the python batches in Keras' order. The
    decoded arrays are cached in ``cache_dir()/cifar10/`` so later loads take well under a second.

    Args:
        num_train, num_test: keep only the first n images of that split (both orders are
            shuffled, so this is a random sample of the classes). Decoding the mirror's 60 000
            JPEGs takes about 15 s the first time; with a limit and nothing cached yet, only
            the images kept are decoded (and cached under that limit).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``uint8`` ``(50000, 32, 32, 3)`` /
        ``(10000, 32, 32, 3)`` images (or the first ``num_train`` / ``num_test``) and ``uint8``
        ``(N, 1)`` labels indexing :data:`CIFAR10_CLASSES`.
    """
    for name, value in (("num_train", num_train), ("num_test", num_test)):
        if value is not None:
            positive_int(name, value, expected="a positive number of images or None (all)")
    loc = locate("cifar10")
    source = next(iter(loc.paths))
    key = loc.source_hash(source)[:16]
    full = cache_folder(loc.spec, create=True) / f"arrays-{loc.layout}-{key}"
    arrays = load_arrays(full)
    if arrays is None and loc.layout == "mirror" and (num_train or num_test):
        part = full.with_name(f"{full.name}-first-{num_train or 'all'}-{num_test or 'all'}")
        arrays = load_arrays(part)
        if arrays is None:
            log.info("decoding part of CIFAR-10 from %s", loc[source])
            arrays = _cifar_from_jpeg_tar(loc[source], {"train": num_train, "test": num_test})
            save_arrays(part, arrays)
    elif arrays is None:
        log.info("decoding CIFAR-10 from %s (first time only)", loc[source])
        arrays = (_cifar_from_jpeg_tar if loc.layout == "mirror" else _cifar_from_python_tar)(loc[source])
        save_arrays(full, arrays)
    return ((arrays["x_train"][:num_train], arrays["y_train"][:num_train]),
            (arrays["x_test"][:num_test], arrays["y_test"][:num_test]))


# --------------------------------------------------------------------------- cats vs dogs

_SMALL = "cats_vs_dogs_small"
_PER_SPLIT = 1000                 # images per class and split
_LONGER_SIDE = 192
# Files of the Microsoft zip known not to decode, as listed by gomlx/gomlx
# (examples/dogsvscats/dogsvscats.go); the checks in _good_jpeg reject the other bad files.
_KNOWN_BAD = {"Cat": {666, 5370, 6435, 10404, 11095, 12080}, "Dog": {2317, 9500, 11233, 11702, 11912}}
_ZIP_NAME = re.compile(r"^PetImages/(Cat|Dog)/(\d+)\.jpg$")


def _good_jpeg(data: bytes) -> np.ndarray | None:
    """Decoded RGB pixels, or None for an empty, non-JFIF or undecodable file."""
    if len(data) < 10 or not data.startswith(b"\xff\xd8") or b"JFIF" not in data[:10]:
        return None  # keras.io's filter: the Microsoft zip holds ~1 500 such files
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return np.asarray(img.convert("RGB"))
    except Exception:  # noqa: BLE001 - any decoder failure means a corrupt file
        return None


def build_cats_vs_dogs_from_zip(zip_path: Path, out_dir: Path, per_split: int = _PER_SPLIT,
                                longer_side: int = _LONGER_SIDE, seed: int = SHUFFLE_SEED) -> dict[str, int]:
    """Draw the mirror-style small set from the Microsoft ``kagglecatsanddogs_5340.zip``.

    Per class, the image numbers are shuffled with ``seed``; corrupt files (empty, not JFIF,
    undecodable, or on the known-bad list) are skipped; the first ``per_split`` good images go to
    ``train`` and the next ``per_split`` to ``test``. Each is resized so its longer side is at most
    ``longer_side`` and saved as ``out_dir/cats_vs_dogs_small/<split>/<cats|dogs>/<cat|dog>.<n>.jpg``.

    Returns:
        the number of skipped files per class (``{"Cat": ..., "Dog": ...}``).
    """
    from PIL import Image

    skipped = {"Cat": 0, "Dog": 0}
    with zipfile.ZipFile(zip_path) as zf:
        numbers: dict[str, list[int]] = {"Cat": [], "Dog": []}
        for name in zf.namelist():
            match = _ZIP_NAME.match(name)
            if match:
                numbers[match.group(1)].append(int(match.group(2)))
        for offset, cls in enumerate(("Cat", "Dog")):
            ids = sorted(numbers[cls])
            chosen = 0
            for i in fixed_permutation(len(ids), seed + offset):
                if chosen == 2 * per_split:
                    break
                number = ids[i]
                pixels = None if number in _KNOWN_BAD[cls] else _good_jpeg(zf.read(f"PetImages/{cls}/{number}.jpg"))
                if pixels is None:
                    skipped[cls] += 1
                    continue
                split = "train" if chosen < per_split else "test"
                img = Image.fromarray(pixels)
                img.thumbnail((longer_side, longer_side), Image.Resampling.BICUBIC)
                target = out_dir / _SMALL / split / f"{cls.lower()}s" / f"{cls.lower()}.{number}.jpg"
                target.parent.mkdir(parents=True, exist_ok=True)
                img.save(target, "JPEG", quality=90)
                chosen += 1
            if chosen < 2 * per_split:
                raise ValueError(f"{zip_path}: only {chosen} good {cls} images, need {2 * per_split}")
    return skipped


def _safe_extract(archive: Path, target: Path, prefix: str) -> None:
    """Extract the regular files under ``prefix`` of a tar, refusing paths that leave ``target``."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
        for m in members:
            if Path(m.name).is_absolute() or ".." in Path(m.name).parts:
                raise ValueError(f"{archive}: unsafe member path {m.name!r}")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            tar.extractall(target, members=members, filter="data")
        else:  # pragma: no cover - older Pythons; members were checked above
            tar.extractall(target, members=members)


def _cats_vs_dogs_folder(loc: Located) -> Path:
    """The unpacked ``cats_vs_dogs_small`` folder in the cache (built once per source file)."""
    source = next(iter(loc.paths))
    base = cache_folder(loc.spec, create=True) / f"unpacked-{loc.layout}-{loc.source_hash(source)[:16]}"
    if (base / ".complete").is_file():
        return base / _SMALL
    with staged_folder(base) as tmp:  # another process may finish first: then its copy is kept
        if loc.layout == "mirror":
            _safe_extract(loc[source], tmp, prefix=_SMALL + "/")
        else:
            log.info("drawing 4 000 images from %s (first time only)", loc[source])
            build_cats_vs_dogs_from_zip(loc[source], tmp)
        (tmp / ".complete").write_text(str(loc[source]) + "\n")
    return base / _SMALL


def cats_vs_dogs_files() -> pd.DataFrame:
    """The cats vs dogs images as files, for file-based ``tf.data`` pipelines.

    The archive is unpacked once into ``cache_dir()/cats_vs_dogs/``. Rows are the train split
    then the test split; within a split the order is fixed (sorted, then shuffled with a fixed
    seed) and is the order of :func:`load_cats_vs_dogs`.

    Returns:
        DataFrame with columns ``path`` (str, absolute), ``label`` (int64, 0 = cat, 1 = dog) and
        ``split`` (``"train"`` or ``"test"``).
    """
    import pandas as pd

    root = _cats_vs_dogs_folder(locate("cats_vs_dogs"))
    frames = []
    for split in ("train", "test"):
        rows = [(str(p), label)
                for label, cls in enumerate(CATS_VS_DOGS_CLASSES)
                for p in sorted((root / split / f"{cls}s").glob("*.jpg"),
                                key=lambda p: (len(p.name), p.name))]
        order = fixed_permutation(len(rows), SHUFFLE_SEED)
        frame = pd.DataFrame([rows[i] for i in order], columns=["path", "label"])
        frame["split"] = split
        frames.append(frame)
    df = pd.concat(frames, ignore_index=True)
    df["label"] = df["label"].astype("int64")
    return df


def load_cats_vs_dogs(image_size: tuple[int, int] = (160, 160)) -> Arrays:
    """Cats vs dogs as arrays resized to ``image_size`` (height, width), bilinear, aspect not kept.

    The resized arrays are cached in ``cache_dir()/cats_vs_dogs/`` per size.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``uint8`` ``(2000, h, w, 3)`` images and
        ``uint8`` ``(2000,)`` labels (0 = cat, 1 = dog; :data:`CATS_VS_DOGS_CLASSES`), in the
        row order of :func:`cats_vs_dogs_files`.
    """
    height, width = check_shape("image_size", image_size, length=2, expected="(height, width) with positive integers")
    loc = locate("cats_vs_dogs")
    key = loc.source_hash(next(iter(loc.paths)))[:16]
    folder = cache_folder(loc.spec, create=True) / f"arrays-{loc.layout}-{key}-{height}x{width}-draft"
    arrays = load_arrays(folder)
    if arrays is None:
        from PIL import Image

        files = cats_vs_dogs_files()
        arrays = {}
        for split in ("train", "test"):
            part = files[files["split"] == split]
            x = np.empty((len(part), height, width, 3), dtype=np.uint8)
            for i, path in enumerate(part["path"]):
                with Image.open(path) as img:
                    # JPEG only: decode at 1/2, 1/4 or 1/8 scale when that still covers the target (much faster)
                    img.draft("RGB", (width, height))
                    x[i] = np.asarray(img.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
            arrays[f"x_{split}"] = x
            arrays[f"y_{split}"] = part["label"].to_numpy(dtype=np.uint8)
        save_arrays(folder, arrays)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
