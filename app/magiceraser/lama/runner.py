"""LamaEngine: the big-lama model behind the Engine interface (loaded once, warmed up, thread-safe)."""

from __future__ import annotations

import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

from .. import strategy
from ..common import sha256_file
from ..contract import check_inputs
from ..errors import ModelError
from ..modelpath import public_model_path
from ..strategy import InpaintOptions
from ..threads import IdleTrim, configure, idle_cores
from .fold import fold_batchnorm
from .jit import load_jit
from .loader import checkpoint_paths, load_generator
from .predictor import Predictor, generator_predictor, inpaint_uint8
from .tiling import DEFAULT_BUDGET, Tiling

WARM_UP_SIZE = 256
#: Every torch call of every engine runs on this one thread: loading, warm-up and each pass. A
#: pass on another thread than the one that warmed up runs 0.3-0.4 s slower, each thread holding
#: OpenMP and allocator state of its own (docs/benchmarks.md); one thread also keeps passes serial.
INFERENCE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
#: Seconds without a request before freed memory goes back to the OS (threads.IdleTrim).
TRIM_AFTER_IDLE_S = 2.0


def is_torchscript(path: Path) -> bool:
    """TorchScript archives hold code/ and constants.pkl; torch.save checkpoints only data.pkl."""
    if path.is_dir():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(path, f"not a readable model file (truncated download or wrong file?): {exc}; "
                         "expected a big-lama directory, its models/best.ckpt or big-lama.pt",
                         hint="download it again with `invoke fetch-model`") from None
    if any(name.endswith("config.yaml") for name in names):
        raise ModelError(path, "this is the big-lama.zip release archive, not an unpacked model",
                         hint=f"install it with `invoke fetch-model --from {path}` (or unpack it and pass the "
                              "big-lama directory)")
    return any(name.endswith("constants.pkl") or "/code/" in name for name in names)


def load_predictor(path: Path, tiling: Tiling, trusted: bool = False) -> tuple[Predictor, Path]:
    """The model at ``path`` (big-lama dir, best.ckpt or TorchScript .pt) and the weights file read."""
    if is_torchscript(path):
        return load_jit(path, tiling), path
    weights = checkpoint_paths(path)[1]
    return generator_predictor(fold_batchnorm(load_generator(path, tiling, trusted=trusted))), weights


def uses_onednn(mkldnn: bool) -> bool:
    """Whether convs run through oneDNN: asked for, and built into this torch (never on riscv64)."""
    return mkldnn and torch.backends.mkldnn.is_available()


def tiling_for(mkldnn: bool) -> Tiling:
    """oneDNN convolves without im2col; every other CPU path needs banded convs to bound memory and
    gains most from Winograd's fewer multiplies."""
    return Tiling(None) if uses_onednn(mkldnn) else Tiling(DEFAULT_BUDGET, winograd=True)


class LamaEngine:
    """Engine protocol implementation running big-lama (checkpoint or TorchScript)."""

    name = "lama"

    def __init__(self, predict: Predictor, model_path: Path, weights_file: Path | None, threads: int,
                 mkldnn: bool, adaptive: bool = False) -> None:
        self._predict = predict
        self.model_path = model_path
        self.weights_file = weights_file
        self.threads = threads
        self.mkldnn = mkldnn
        self.pixels_per_second: float | None = None
        self.loaded_identity = file_identity(weights_file) if weights_file else None
        self._idle = idle_cores() if adaptive else None  # None: --threads fixed it
        self._threads_now = threads
        self._trim = IdleTrim(TRIM_AFTER_IDLE_S, INFERENCE_THREAD.submit)

    @classmethod
    def load(cls, path: str | Path, threads: int | None = None, mkldnn: bool = True, warm_up: bool = True,
             trusted: bool = False) -> "LamaEngine":
        """Load ``path`` (big-lama dir, best.ckpt or TorchScript .pt), set threads/oneDNN, warm up:
        on the inference thread, like every pass after."""
        def load_there() -> LamaEngine:
            torch.backends.mkldnn.enabled = mkldnn
            count = configure(threads)["threads"]
            predict, weights = load_predictor(Path(path), tiling_for(mkldnn), trusted)
            engine = cls(predict, Path(path), weights, count, uses_onednn(mkldnn), adaptive=threads is None)
            if warm_up:
                engine._warm_up_here()
            return engine

        return INFERENCE_THREAD.submit(load_there).result()

    def _window(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return inpaint_uint8(self._predict, rgb, mask)

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions | None = None) -> np.ndarray:
        """rgb (H,W,3) uint8, mask (H,W) bool -> (H,W,3) uint8; unmasked pixels are bit-identical."""
        mask = check_inputs(rgb, mask)
        return INFERENCE_THREAD.submit(self._inpaint_here, rgb, mask, options or InpaintOptions()).result()

    def _inpaint_here(self, rgb: np.ndarray, mask: np.ndarray, options: InpaintOptions) -> np.ndarray:
        if self._idle is not None and (chosen := self._idle.choose(self.threads)) != self._threads_now:
            self._threads_now = configure(chosen)["threads"]
        try:
            return strategy.run(self._window, rgb, mask, options)
        finally:
            self._trim.request_done()

    def warm_up(self, size: int = WARM_UP_SIZE) -> float:
        """One small run (first-call allocations), then a timed one: pixels/second for UI estimates."""
        return INFERENCE_THREAD.submit(self._warm_up_here, size).result()

    def _warm_up_here(self, size: int = WARM_UP_SIZE) -> float:
        options = InpaintOptions(strategy="original")
        self._inpaint_here(*_synthetic(size // 2), options)
        rgb, mask = _synthetic(size)
        start = time.perf_counter()
        self._inpaint_here(rgb, mask, options)
        self.pixels_per_second = size * size / max(time.perf_counter() - start, 1e-9)
        return self.pixels_per_second

    @cached_property
    def _digest(self) -> str | None:
        """sha256 of the weights file (computed once, on first use, while it is the loaded file)."""
        if self.weights_file is None or self.file_change() is not None:
            return None
        return "sha256:" + sha256_file(self.weights_file)

    def file_change(self) -> str | None:
        """'deleted' or 'replaced' when the weights file is no longer the one loaded, else None."""
        if self.weights_file is None:
            return None
        now = file_identity(self.weights_file)
        return None if now == self.loaded_identity else "deleted" if now is None else "replaced"

    def info(self) -> dict:
        change = self.file_change()
        hint = None if change is None else (
            f"the model file {public_model_path(self.weights_file or self.model_path)} was {change} after it was "
            "loaded; the loaded copy keeps erasing until a restart (reinstall it with `invoke fetch-model` first)")
        return {"engine": self.name, "model_path": public_model_path(self.model_path), "model_digest": self._digest,
                "model_missing_hint": hint, "torch_version": torch.__version__, "threads": self.threads,
                "mkldnn": self.mkldnn, "pixels_per_second": self.pixels_per_second}


def file_identity(path: Path) -> tuple[int, int, int, int] | None:
    """(device, inode, size, mtime) of a file, None when it is gone: a changed tuple is another file."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _synthetic(size: int) -> tuple[np.ndarray, np.ndarray]:
    rgb = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), bool)
    mask[size // 4: size // 2, size // 4: size // 2] = True
    return rgb, mask
