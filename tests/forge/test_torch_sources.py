"""torch 2.6.0's archive set, end to end up to real compiles, without building the whole wheel:
fetched, verified, unpacked and patched by the tool into a private cache, configured by torch's
own ``setup.py build --cmake-only`` in the recipe's build environment, then a handful of real
translation units compiled by ninja for x86_64 and by the riscv64 cross compiler for rv64gc,
and two torchvision 0.21.0 units (from its Debian orig tarball) against the configured headers.

One configured tree serves every test here (~4 min on 2 busy cores: fetch 20 s, venv 10 s,
configure 40 s, ATen code generation and the ninja objects 90 s, the rest compiles)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import torchtree

from rvforge.build import archives, sources

pytestmark = pytest.mark.slow

X86_64, RISCV = 62, 243
#: Real units: c10 (needs the ATen code generation first), an ATen native op, and the flatbuffer
#: loader, which compiles only with the regenerated flatbuffers header (a recipe patch).
UNITS = ("c10/util/Logging.cpp", "aten/src/ATen/native/Activation.cpp",
         "torch/csrc/jit/mobile/flatbuffer_loader.cpp")
CROSS_CXX = "riscv64-linux-gnu-g++"


def _skip_unless_reachable(name: str, cache: Path) -> None:
    recipe = torchtree.recipe_with(name, "debian")
    why = archives.unreachable(recipe.source.files, cache, lambda f: sources.index_file_url(f, cache))
    if why:
        pytest.skip(f"{name}'s archive set cannot be fetched here ({why}); set RVFORGE_DEBIAN_MIRROR")


@pytest.fixture(scope="module")
def torch(tmp_path_factory: pytest.TempPathFactory) -> torchtree.TorchTree:
    root = tmp_path_factory.mktemp("torch")
    cache = root / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RVFORGE_HOME", str(cache))
        _skip_unless_reachable("torch", cache)
        return torchtree.configure(cache, root / "work")


def test_archive_set_is_verified_unpacked_and_configured(torch: torchtree.TorchTree) -> None:
    tree = torch.tree
    # every archive landed where the recipe says, and the Debian-only patches applied
    for sub in ("third_party/sleef/CMakeLists.txt", "third_party/onnx/CMakeLists.txt",
                "third_party/pybind11/include/pybind11/pybind11.h",
                "third_party/pocketfft/pocketfft_hdronly.h",
                "third_party/opentelemetry-cpp/api/include"):
        assert (tree / sub).exists(), sub
    header = (tree / "torch/csrc/jit/serialization/mobile_bytecode_generated.h").read_text()
    assert "FLATBUFFERS_VERSION_MINOR == 5" in header
    cmake_cache = dict(re.findall(r"^(\w+):\w+=(.*)$", (torch.build / "CMakeCache.txt").read_text(), re.M))
    # the recipe's riscv64-minded feature set reached CMake
    for feature in ("USE_CUDA", "USE_MKLDNN", "USE_FBGEMM", "USE_XNNPACK", "USE_NNPACK",
                    "USE_PYTORCH_QNNPACK", "USE_DISTRIBUTED", "USE_KINETO", "BUILD_TEST"):
        assert cmake_cache[feature].upper() in ("0", "OFF", "FALSE"), (feature, cmake_cache[feature])
    assert cmake_cache["BLAS"] == "OpenBLAS" and cmake_cache["USE_OPENMP"].upper() in ("1", "ON", "TRUE")
    assert len(torch.compile_commands()) > 1000
    print(f"timings: {torch.timings}")


def test_ninja_compiles_real_units_for_x86_64(torch: torchtree.TorchTree) -> None:
    targets = [torchtree.object_target(torch, unit) for unit in UNITS]
    seconds = torchtree.ninja(torch, *targets)
    print(f"ninja (ATen code generation + {len(targets)} objects): {seconds:.0f} s")
    for target in targets:
        obj = torch.build / target
        assert obj.stat().st_size > 0 and torchtree.elf_machine(obj) == X86_64, target


@pytest.mark.skipif(shutil.which(CROSS_CXX) is None, reason=f"{CROSS_CXX} is not installed (ci/setup.sh)")
def test_the_same_units_compile_for_rv64gc(torch: torchtree.TorchTree, tmp_path: Path) -> None:
    torchtree.ninja(torch, torchtree.object_target(torch, UNITS[0]))  # generated headers exist
    for unit in UNITS[:2]:
        obj = tmp_path / f"{Path(unit).name}.o"
        start = time.monotonic()
        subprocess.run(torchtree.cross_args(torch, unit, CROSS_CXX, obj),
                       cwd=torch.command_for(unit)["directory"], check=True)
        print(f"rv64gc {unit}: {time.monotonic() - start:.0f} s")
        assert torchtree.elf_machine(obj) == RISCV
        attributes = subprocess.run(["riscv64-linux-gnu-readelf", "-A", str(obj)], check=True,
                                    capture_output=True, text=True).stdout
        arch = re.search(r'Tag_RISCV_arch: "([^"]+)"', attributes)
        assert arch, attributes
        # rv64gc = i, m, a, f, d, c (+ zicsr, zifencei); no vector code, which the C910 lacks
        assert re.match(r"rv64i\d+p\d+_m\d+p\d+_a\d+p\d+_f\d+p\d+_d\d+p\d+_c\d+p\d+", arch[1]), arch[1]
        assert "_v" not in arch[1], arch[1]


def test_torchvision_units_compile_against_the_configured_torch(torch: torchtree.TorchTree,
                                                                tmp_path: Path) -> None:
    cache = torch.cache
    _skip_unless_reachable("torchvision", cache)
    recipe = torchtree.recipe_with("torchvision", "debian")
    tree, _ = torchtree.unpacked(recipe, torchtree.context(cache), tmp_path / "vision", tmp_path / "log")
    assert (tree / "version.txt").read_text().strip() == "0.21.0"
    torchtree.ninja(torch, torchtree.object_target(torch, UNITS[0]))  # generated headers exist
    compilers = [("g++", [], X86_64)]
    if shutil.which(CROSS_CXX):
        compilers.append((CROSS_CXX, torchtree.RV64GC, RISCV))
    for unit in ("torchvision/csrc/ops/nms.cpp", "torchvision/csrc/ops/cpu/nms_kernel.cpp"):
        for compiler, extra, machine in compilers:
            obj = tmp_path / f"{compiler}-{Path(unit).name}.o"
            start = time.monotonic()
            subprocess.run([compiler, "-c", *torchtree.header_flags(torch), f"-I{tree / 'torchvision/csrc'}",
                            *extra, str(tree / unit), "-o", str(obj)], check=True, env=torch.env)
            print(f"{compiler} {unit}: {time.monotonic() - start:.0f} s")
            assert torchtree.elf_machine(obj) == machine, (compiler, unit)
