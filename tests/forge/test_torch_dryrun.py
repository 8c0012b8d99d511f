"""--dry-run on the real recipe set: the full plan and each build's environment, nothing built.
torch and torchvision cannot be built here; this is the part of their builds that can be checked."""

from __future__ import annotations

import re

from conftest import invoke


def test_dry_run_prints_plan_and_torch_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RVFORGE_HOME", str(tmp_path / "home"))
    wheelhouse = tmp_path / "wh"
    proc = invoke("build-wheels", "--dry-run", "--profile", "openeuler-riscv64", "--jobs", "3",
                  "--wheelhouse", str(wheelhouse), check=True)
    out = proc.stdout
    plan = re.findall(r"^\s+\d+\. (\S+) (\S+)\s+(.+?)\s+\[", out, re.M)
    names = [name for name, _, _ in plan]
    assert names.index("numpy") < names.index("scipy") < names.index("scikit-image")
    assert names.index("torch") < names.index("torchvision")
    assert dict((n, v) for n, v, _ in plan)["torch"] == "2.6.0"
    assert all(action.startswith("fetch + ") for _, _, action in plan)
    torch_section = out.split("\ntorch 2.6.0:")[1].split("\ntorchvision ")[0]
    for line in ("USE_CUDA=0", "USE_MKLDNN=0", "USE_FBGEMM=0", "USE_XNNPACK=0", "BUILD_TEST=0",
                 "BLAS=OpenBLAS", "MAX_JOBS=3", "PYTORCH_BUILD_VERSION=2.6.0"):
        assert f"  {line}\n" in torch_section, line
    assert "-ffile-prefix-map=" in torch_section
    # the openEuler profile's pkgconfig dir is on the build path (doctor's openblas.pc goes first)
    assert re.search(r"PKG_CONFIG_PATH=\S*/pkgconfig/openeuler-riscv64:/usr/lib64/pkgconfig", out)
    assert "TORCHVISION_USE_JPEG=0" in out.split("\ntorchvision 0.21.0:")[1]
    assert "dry run: nothing fetched or built" in out
    assert not list(wheelhouse.glob("*.whl"))
    assert not (tmp_path / "home" / "sources").exists()
