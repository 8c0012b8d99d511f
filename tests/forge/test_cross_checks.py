"""Bad cross roots are refused with one line naming the gap and its fix, before anything is
built or written: a root without the target's Python headers, a cross gcc of another major."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from conftest import REPO, invoke

from rvforge.cross import checks, files
from rvforge.cross import root as cross_root
from rvforge.cross.target import SYSROOT_INSIDE, cross_target
from rvforge.errors import CheckFailed

TARGET = cross_target("debian-riscv64")


def _status(packages: dict[str, str]) -> str:
    paras = []
    for name, version in packages.items():
        package, _, arch = name.partition(":")
        paras.append(f"Package: {package}\nStatus: install ok installed\nArchitecture: {arch or 'amd64'}\n"
                     f"Version: {version}\n")
    return "\n".join(paras)


def fake_root(path: Path, gcc_major: str = "16", headers: bool = True) -> Path:
    """A finished-looking root: dpkg status, ready marker and the files the checks read."""
    packages = {f"gcc-{gcc_major}-riscv64-linux-gnu": f"{gcc_major}.2.0-3cross1",
                "libpython3.14-dev:riscv64": "3.14.8-1", "python3.14": "3.14.8-1"}
    (path / "var/lib/dpkg").mkdir(parents=True)
    (path / "var/lib/dpkg/status").write_text(_status(packages))
    (path / cross_root.READY).parent.mkdir(parents=True)
    (path / cross_root.READY).write_text(json.dumps({"key": path.name}))
    wanted = [TARGET.sysconfigdata, TARGET.target_python, "/usr/include/riscv64-linux-gnu/python3.14/pyconfig.h",
              *(f"/usr/lib/riscv64-linux-gnu/pkgconfig/{pc}" for pc in ("zlib.pc", "libjpeg.pc")),
              "/usr/lib/riscv64-linux-gnu/openblas-pthread/pkgconfig/openblas.pc",
              "/usr/lib/riscv64-linux-gnu/libstdc++.so.6"]
    if headers:
        wanted.append(f"{TARGET.python_include}/Python.h")
    for name in wanted:
        (path / name.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (path / name.lstrip("/")).write_text("")
    # Debian's alternatives: absolute links that only resolve inside the root.
    (path / "etc/alternatives").mkdir(parents=True)
    (path / "etc/alternatives/openblas.pc-riscv64-linux-gnu").symlink_to(
        "/usr/lib/riscv64-linux-gnu/openblas-pthread/pkgconfig/openblas.pc")
    (path / "usr/lib/riscv64-linux-gnu/pkgconfig/openblas.pc").symlink_to(
        "/etc/alternatives/openblas.pc-riscv64-linux-gnu")
    site = path / "opt/rvforge/build-python/lib/python3.14/site-packages/crossenv-1.6.2.dist-info"
    site.mkdir(parents=True)
    return path


def test_installed_reads_foreign_architectures(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "r")
    assert checks.installed(root) == {"gcc-16-riscv64-linux-gnu": "16.2.0-3cross1",
                                      "libpython3.14-dev:riscv64": "3.14.8-1", "python3.14": "3.14.8-1"}


def test_file_checks_pass_on_a_complete_root(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "r")
    packages = checks.installed(root)
    assert checks.check_gcc(TARGET, root, packages).status == checks.PASS
    assert checks.check_python(TARGET, root, packages).status == checks.PASS
    assert checks.check_libraries(TARGET, root).status == checks.PASS
    (root / "usr/lib/riscv64-linux-gnu/libstdc++.so.6").unlink()
    assert "libstdc++.so.6" in checks.check_libraries(TARGET, root).detail
    assert checks.check_crossenv(TARGET, root).detail == "crossenv 1.6.2"


def test_cross_gcc_of_another_major_is_refused(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "r", gcc_major="15")
    with pytest.raises(CheckFailed) as err:
        checks.require(TARGET, root)
    assert "cross gcc major 15; the target's gcc is 16" in err.value.message
    assert "invoke doctor --cross-target debian-riscv64 --fix" in str(err.value.hint)


def test_sysroot_without_python_headers_is_refused(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "r", headers=False)
    with pytest.raises(CheckFailed) as err:
        checks.require(TARGET, root)
    assert "no Python 3.14 headers" in err.value.message and "Python.h" in err.value.message


def test_missing_root_names_the_command_that_creates_it(tmp_path: Path) -> None:
    results = {r.name: r for r in checks.evaluate(TARGET, tmp_path / "absent")}
    assert results["cross root"].status == checks.FAIL
    assert results["cross root"].fix.startswith("invoke doctor --cross-target debian-riscv64 --fix")
    assert results["cross gcc"].status == checks.SKIP


def _cli_env(home: Path) -> dict[str, str]:
    return {"RVFORGE_HOME": str(home)}


@pytest.mark.parametrize("case", ["gcc-major", "no-headers"])
def test_build_wheels_refuses_a_bad_root_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            case: str) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("RVFORGE_HOME", str(home))
    root = cross_root.default_path(TARGET)
    fake_root(root, gcc_major="12" if case == "gcc-major" else "16", headers=case != "no-headers")
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    house = tmp_path / "house"
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--only", "pillow", "--wheelhouse",
                  str(house), env=_cli_env(home))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert len(error) == 1 and ("gcc major 12" if case == "gcc-major" else "Python.h") in error[0]
    assert "Traceback" not in proc.stderr
    after = sorted(p.relative_to(home) for p in home.rglob("*") if "lock" not in p.name)
    assert [p for p in after if p not in before] == []
    assert not list(house.glob("*.whl"))


def test_unknown_cross_target_on_the_command_line(tmp_path: Path) -> None:
    proc = invoke("build-wheels", "--cross-target", "sparc-solaris", env=_cli_env(tmp_path / "h"))
    assert proc.returncode == 2
    assert "unknown profile 'sparc-solaris'" in proc.stderr and "Traceback" not in proc.stderr
    doctor = invoke("doctor", "--cross-target", "sparc-solaris", env=_cli_env(tmp_path / "h"))
    assert doctor.returncode == 2 and "use one of: debian-riscv64" in doctor.stderr


def _recipes_with_blocked_pillow(tmp_path: Path) -> Path:
    recipes = tmp_path / "recipes"
    recipes.mkdir()
    for name in ("pillow", "markupsafe"):
        (recipes / f"{name}.yaml").write_text((REPO / "recipes" / f"{name}.yaml").read_text())
    with (recipes / "pillow.yaml").open("a") as handle:
        handle.write('cross_blocked: "its setup.py probes the build machine"\n')
    return recipes


def test_plan_shows_a_blocked_recipe_and_skips_it(tmp_path: Path) -> None:
    recipes = _recipes_with_blocked_pillow(tmp_path)
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--recipes", str(recipes), "--dry-run",
                  "--wheelhouse", str(tmp_path / "house"), env=_cli_env(tmp_path / "h"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pillow: cannot be cross-built yet: its setup.py probes the build machine" in proc.stdout
    assert "pillow: not cross-built (its setup.py probes the build machine)" in proc.stdout + proc.stderr


def test_naming_a_blocked_recipe_stops_the_run(tmp_path: Path) -> None:
    recipes = _recipes_with_blocked_pillow(tmp_path)
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--recipes", str(recipes), "--only", "pillow",
                  "--wheelhouse", str(tmp_path / "house"), env=_cli_env(tmp_path / "h"))
    assert proc.returncode == 3
    assert "pillow cannot be cross-built yet: its setup.py probes the build machine" in proc.stderr
    assert not (tmp_path / "house").exists() or not list((tmp_path / "house").glob("*.whl"))


def test_root_key_follows_suite_packages_and_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    key = cross_root.key(TARGET)
    assert key.startswith("debian-forky-amd64-")
    other_gcc = dataclasses.replace(TARGET, profile=dataclasses.replace(TARGET.profile, gcc="15"))
    assert cross_root.key(other_gcc) != key
    assert cross_root.key(dataclasses.replace(TARGET, suite="sid")).startswith("debian-sid-amd64-")
    monkeypatch.setenv("RVFORGE_RISCV64_MIRROR", "http://127.0.0.1:9/debian")
    assert cross_root.key(TARGET) != key


def test_a_half_created_root_is_never_used(tmp_path: Path) -> None:
    half = tmp_path / "debian-forky-amd64-000000000000"
    (half / "usr/bin").mkdir(parents=True)
    with pytest.raises(CheckFailed) as err:
        cross_root.ensure(TARGET, half)
    assert "is not a finished cross root" in err.value.message and f"rm -rf {half}" in str(err.value.hint)


def test_flags_a_cross_build_does_not_take_yet(tmp_path: Path) -> None:
    proc = invoke("build-wheels", "--cross-target", "debian-riscv64", "--profile", "debian-riscv64", "--distcc",
                  "127.0.0.1", env=_cli_env(tmp_path / "h"))
    assert proc.returncode == 2
    assert "--profile, --distcc cannot be combined with --cross-target yet" in proc.stderr
    assert not (tmp_path / "h").exists()


def fake_sysroot(path: Path, python: str = "3.14", *, sysconfig: bool = True, interpreter: bool = True,
                 libraries: bool = True) -> Path:
    """A target tree in Debian's layout, as ``--sysroot`` takes it (the emulated userland is one)."""
    wanted = [f"usr/include/python{python}/Python.h"]
    wanted += [f"usr/lib/python{python}/_sysconfigdata__linux_riscv64-linux-gnu.py"] if sysconfig else []
    wanted += [f"usr/bin/python{python}"] if interpreter else []
    wanted += [*(f"usr/lib/riscv64-linux-gnu/pkgconfig/{pc}" for pc in ("zlib.pc", "libjpeg.pc", "openblas.pc")),
               "usr/lib/riscv64-linux-gnu/libstdc++.so.6", "usr/lib/riscv64-linux-gnu/crti.o"] if libraries else []
    for name in wanted:
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text("")
    return path


@pytest.mark.parametrize(("case", "message"), [
    ("empty", "has no Python headers (usr/include/python3.X/Python.h)"),
    ("python 3.11", "has 3.11 headers; the cross target debian-riscv64 builds for Python 3.14"),
    ("no sysconfig", "has no usr/lib*/python3.14/_sysconfigdata_*.py"),
    ("no interpreter", "has no usr/bin/python3.14"),
    ("not a directory", "is not a directory")])
def test_an_unusable_sysroot_is_one_line_and_leaves_nothing(tmp_path: Path, case: str, message: str) -> None:
    sysroot = tmp_path / "sysroot"
    sysroot.mkdir()
    if case == "python 3.11":
        fake_sysroot(sysroot, "3.11")
    elif case == "no sysconfig":
        fake_sysroot(sysroot, sysconfig=False)
    elif case == "no interpreter":
        fake_sysroot(sysroot, interpreter=False)
    elif case == "not a directory":
        sysroot.rmdir()
    home, house = tmp_path / "h", tmp_path / "house"
    for argv in (["build-wheels", "--only", "pillow", "--wheelhouse", str(house)], ["doctor"]):
        proc = invoke(*argv, "--cross-target", "debian-riscv64", "--sysroot", str(sysroot), env=_cli_env(home))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error")]
        assert len(errors) == 1 and message in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
    assert not home.exists() and not house.exists()


def test_a_sysroot_target_takes_the_targets_files_from_it(tmp_path: Path) -> None:
    sysroot = fake_sysroot(tmp_path / "sysroot")
    target = cross_target("debian-riscv64", str(sysroot))
    assert target.sysroot == sysroot
    assert target.target_packages() == [] and target.python_debs() == []  # nothing :riscv64 in the root
    assert cross_root.key(target) != cross_root.key(TARGET)
    assert target.target_python == f"{SYSROOT_INSIDE}/usr/bin/python3.14"
    assert target.sysconfigdata == f"{SYSROOT_INSIDE}/usr/lib/python3.14/_sysconfigdata__linux_riscv64-linux-gnu.py"
    assert target.python_include == f"{SYSROOT_INSIDE}/usr/include/python3.14"
    env = files.compiler_env(target)
    # the sysroot's C library before the cross gcc's own (Debian's libc6-dev-riscv64-cross)
    assert env["CC"].split()[1:] == ["-march=rv64gc", "-mabi=lp64d", f"--sysroot={SYSROOT_INSIDE}",
                                     f"-B{SYSROOT_INSIDE}/usr/lib/riscv64-linux-gnu/"]
    assert env["PKG_CONFIG_SYSROOT_DIR"] == SYSROOT_INSIDE
    assert env["PKG_CONFIG_LIBDIR"].split(":")[0] == f"{SYSROOT_INSIDE}/usr/lib/riscv64-linux-gnu/pkgconfig"
    assert f"--sysroot={SYSROOT_INSIDE}" not in " ".join(target.flags)  # the canary's pins stay the profile's
    cross_ini = files.meson_cross(target)
    assert f"'--sysroot={SYSROOT_INSIDE}'" in cross_ini and f"'-L', '{SYSROOT_INSIDE}'" in cross_ini
    assert f"sys_root = '{SYSROOT_INSIDE}'" in cross_ini
    root = fake_root(tmp_path / "root")
    results = {r.name: r for r in checks.evaluate(target, root)}
    assert results["target python"].status == checks.PASS
    assert results["target libraries"].status == checks.PASS, results["target libraries"]
    (sysroot / "usr/lib/riscv64-linux-gnu/pkgconfig/libjpeg.pc").unlink()
    failed = {r.name: r for r in checks.evaluate(target, root)}["target libraries"]
    assert failed.status == checks.FAIL and "libjpeg.pc" in failed.detail and str(sysroot) in failed.fix
    absent = {r.name: r for r in checks.evaluate(target, tmp_path / "absent")}["cross root"]
    assert absent.fix.startswith(f"invoke doctor --cross-target debian-riscv64 --sysroot {sysroot} --fix")
