"""List the tensors in a torch.save zip checkpoint without torch and without running pickled code.

fetch-model verifies a downloaded best.ckpt on machines where torch is not installed yet. The
restricted unpickler below knows only torch's tensor-rebuild calls (which it replaces with shape
records) and turns every other class the file names into an inert stub.
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import CheckpointError
from .config import load_config
from .spec import compare_shapes, expected_shapes

_DTYPES = {"FloatStorage": ("float32", 4), "DoubleStorage": ("float64", 8), "HalfStorage": ("float16", 2),
           "BFloat16Storage": ("bfloat16", 2), "LongStorage": ("int64", 8), "IntStorage": ("int32", 4),
           "ShortStorage": ("int16", 2), "CharStorage": ("int8", 1), "ByteStorage": ("uint8", 1),
           "BoolStorage": ("bool", 1)}
_DOWNLOAD_AGAIN = "download the model again with `invoke fetch-model`"


@dataclass(frozen=True)
class TensorRecord:
    """What the checkpoint says about one tensor: enough to check it against the expected layout."""

    shape: tuple[int, ...]
    dtype: str
    storage_key: str
    storage_bytes: int


@dataclass(frozen=True)
class _Storage:
    dtype: str
    itemsize: int
    key: str
    numel: int


class InertStub:
    """Stands in for any non-tensor class a checkpoint names (Lightning callbacks, OmegaConf nodes):
    construction and state are accepted and ignored, so nothing from the file is imported or run."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        pass


def stub_class(module: str, name: str) -> type:
    return type(name, (InertStub,), {"__module__": "stub." + module})


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype, self.itemsize = _DTYPES[name]


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...], stride: object = None,
                    *rest: object) -> TensorRecord:
    """Stands in for torch._utils._rebuild_tensor_v2 (same arguments): a record instead of a tensor."""
    return TensorRecord(tuple(int(d) for d in size), storage.dtype, storage.key, storage.numel * storage.itemsize)


def _rebuild_parameter(data: TensorRecord, *rest: object) -> TensorRecord:
    return data


class _IndexUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name.startswith("_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        return stub_class(module, name)

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unknown storage type {storage_type!r}")
        return _Storage(storage_type.dtype, storage_type.itemsize, key, numel)


def _data_pkl(archive: zipfile.ZipFile, path: Path) -> str:
    names = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(names) != 1:
        raise CheckpointError(path, "not a torch.save checkpoint (no <name>/data.pkl in the zip)")
    return names[0]


def read_records(path: str | Path) -> dict[str, TensorRecord]:
    """Every tensor in the checkpoint's state_dict (or top-level dict), checked against the stored bytes."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            pkl = _data_pkl(archive, path)
            with archive.open(pkl) as stream:
                data = _IndexUnpickler(stream).load()
            sizes = {info.filename: info.file_size for info in archive.infolist()}
            crc_bad = archive.testzip()
    except FileNotFoundError:
        raise CheckpointError(path, "file not found") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise CheckpointError(path, f"not a readable torch.save zip (truncated download?): {exc}",
                              hint=_DOWNLOAD_AGAIN) from None
    except (pickle.UnpicklingError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise CheckpointError(path, f"corrupt data.pkl in the checkpoint: {exc}",
                              hint=_DOWNLOAD_AGAIN) from None
    if crc_bad:
        raise CheckpointError(path, f"CRC mismatch in {crc_bad} (corrupt download)",
                              hint=_DOWNLOAD_AGAIN)
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(path, "the checkpoint holds no state_dict")
    records = {key: rec for key, rec in state.items() if isinstance(rec, TensorRecord)}
    prefix = pkl[: -len("data.pkl")] + "data/"
    for key, rec in records.items():
        stored = sizes.get(prefix + rec.storage_key)
        if stored is None or stored < rec.storage_bytes:
            raise CheckpointError(path, f"tensor {key}: storage {rec.storage_key} is missing or short "
                                        f"({stored} of {rec.storage_bytes} bytes)",
                                  hint=_DOWNLOAD_AGAIN)
    return records


def read_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """{key: shape} of every tensor in the checkpoint's state_dict; () for a scalar."""
    return {key: rec.shape for key, rec in read_records(path).items()}


def generator_shapes(path: str | Path) -> dict[str, tuple[int, ...]]:
    """{key: shape} of the ``generator.*`` entries only (prefix kept, as in big-lama-keys.tsv)."""
    return {key: shape for key, shape in read_shapes(path).items() if key.startswith("generator.")}


def verify_model_dir(path: str | Path) -> dict[str, tuple[int, ...]]:
    """Check big-lama/{config.yaml, models/best.ckpt}: every generator entry present with the right shape.

    Returns the generator shapes; raises CheckpointError listing the first differences."""
    path = Path(path)
    ckpt = path / "models" / "best.ckpt"
    found = generator_shapes(ckpt)
    problems = compare_shapes(expected_shapes(load_config(path / "config.yaml")), found)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise CheckpointError(ckpt, f"generator weights do not match config.yaml: {shown}",
                              hint="download the matching big-lama.zip again with `invoke fetch-model`")
    return found
