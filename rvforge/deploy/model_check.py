"""Content checks for LaMa weights, without torch (the tool's venv on the laptop has none).

The expected generator layout comes from the app's own torch-free package
(``magiceraser.lama.weights``), so the tool accepts exactly what the eraser will load.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from rvforge.errors import ModelError


def open_zip(path: Path, label: str) -> zipfile.ZipFile:
    """Open and CRC-check a zip (the official zip, a torch.save checkpoint, a TorchScript file)."""
    try:
        archive = zipfile.ZipFile(path)
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{label}: not a complete zip archive ({exc}); the file is truncated or not "
                         "what it claims to be",
                         hint="download it again (a partial download resumes) or copy it again from the stick"
                         ) from None
    if bad:
        archive.close()
        raise ModelError(f"{label}: member {bad} is corrupt (CRC mismatch)", hint="download the file again")
    return archive


def verify_lama_dir(model_dir: Path, label: str) -> int:
    """``config.yaml`` readable and ``models/best.ckpt`` holding exactly the generator entries
    (keys and shapes) the config's architecture defines. Returns the number of entries."""
    # Imported here, not at the top: the tool's other tasks run where only rvforge is installed
    # (the riscv64 guest's tool venv); the app sits beside the tool wherever models are fetched.
    try:
        from magiceraser.errors import ModelError as AppModelError
        from magiceraser.lama.weights import verify_model_dir
    except ImportError as exc:
        raise ModelError(f"checking {label} needs the magiceraser app next to the tool ({exc})",
                         hint="bash ci/setup.sh (or: pip install --no-deps -e ./app)") from None
    open_zip(model_dir / "models" / "best.ckpt", f"{label}: models/best.ckpt").close()
    try:
        return len(verify_model_dir(model_dir))
    except AppModelError as exc:
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
