"""Content checks for LaMa weights, without torch (the tool's venv on the laptop has none).

The expected generator layout comes from the app's own torch-free modules
(``magiceraser.lama.config``/``spec``/``checkpoint_index``), so the tool accepts exactly what
the eraser will load. They are imported from the installed app or from the checkout's app/.
"""

from __future__ import annotations

import importlib
import sys
import zipfile
from pathlib import Path
from types import ModuleType

from rvforge import REPO_ROOT
from rvforge.errors import ModelError


def _lama(name: str) -> ModuleType:
    module = f"magiceraser.lama.{name}"
    try:
        return importlib.import_module(module)
    except ImportError:
        app = str(REPO_ROOT / "app")
        if app in sys.path:
            raise
        sys.path.insert(0, app)
        return importlib.import_module(module)


def open_zip(path: Path, label: str) -> zipfile.ZipFile:
    """Open and CRC-check a zip (the official zip, a torch.save checkpoint, a TorchScript file)."""
    try:
        archive = zipfile.ZipFile(path)
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{label}: not a complete zip archive ({exc}); the file is truncated or not "
                         "what it claims to be",
                         hint="download it again (a partial download resumes) or copy it again from the stick")
    if bad:
        archive.close()
        raise ModelError(f"{label}: member {bad} is corrupt (CRC mismatch)", hint="download the file again")
    return archive


def verify_lama_dir(model_dir: Path, label: str) -> int:
    """``config.yaml`` readable and ``models/best.ckpt`` holding exactly the generator entries
    (keys and shapes) the config's architecture defines. Returns the number of entries."""
    errors = _lama("errors")
    open_zip(model_dir / "models" / "best.ckpt", f"{label}: models/best.ckpt").close()
    try:
        return len(_lama("checkpoint_index").verify_model_dir(model_dir))
    except errors.ModelError as exc:
        where = Path(exc.path).relative_to(model_dir) if Path(exc.path).is_relative_to(model_dir) else exc.path
        raise ModelError(f"{label}: {where}: {exc.problem}",
                         hint="use the official big-lama.zip (big-lama/config.yaml + big-lama/models/best.ckpt) "
                              "or the zip that belongs with this config.yaml") from None


def verify_torchscript(path: Path, label: str) -> int:
    """A TorchScript archive: a zip with ``data.pkl`` and compiled ``code/``. Returns its entry count."""
    with open_zip(path, label) as archive:
        names = archive.namelist()
    if not any(n.endswith("/data.pkl") for n in names) or not any("/code/" in n for n in names):
        raise ModelError(f"{label}: not a TorchScript model (no data.pkl and code/ inside)",
                         hint="big-lama-jit expects IOPaint's big-lama.pt; for the official zip use --kind big-lama")
    return len(names)
