"""Invoke tasks: thin entry points; every body lives in the rvforge package."""

from invoke import task
from invoke.exceptions import Exit

from rvforge.tasks import bench as bench_task
from rvforge.tasks import build_helper as build_helper_task
from rvforge.tasks import build_wheels as build_wheels_task
from rvforge.tasks import deploy as deploy_task
from rvforge.tasks import doctor as doctor_task
from rvforge.tasks import fetch_model as fetch_model_task
from rvforge.tasks import regenerate as regenerate_task
from rvforge.tasks import riscv64_check as riscv64_check_task
from rvforge.tasks import serve as serve_task
from rvforge.tasks.edge import run_task


@task(
    help={
        "profile": "Distro profile: a name from configs/profiles or a path to a profile .yaml (default: detected)",
        "sysroot": "Look up libraries, headers and .pc files under this directory",
        "fix": "Apply the fixes the tool may make itself (synthesize openblas.pc in its own dir)",
        "json": "Print the result as JSON",
        "cross_target": "Check the cross toolchain and root for this profile instead (--fix creates the root)",
    }
)
def doctor(c, profile=None, sysroot=None, fix=False, json=False, cross_target=None):
    """Check the build host and print the exact command that fixes each problem."""
    run_task(doctor_task.main, profile=profile, sysroot=sysroot, fix=fix, as_json=json,
             cross_target=cross_target)


@task(
    name="build-wheels",
    iterable=["only"],
    help={
        "only": "Build only this recipe (repeatable); its dependencies must already be in the wheelhouse",
        "jobs": "Parallel compile jobs (default: from cores and RAM)",
        "dry_run": "Print the plan and build environment, build nothing",
        "wheelhouse": "Output directory for tested wheels (default: ./wheelhouse)",
        "profile": "Distro profile: a name from configs/profiles or a path to a profile .yaml (default: detected)",
        "sysroot": "Look up libraries, headers and .pc files under this directory (with --cross-target: the "
                   "target's tree, its Python included; default there: the cross root's own packages)",
        "force": "Rebuild even when the cached wheel matches its inputs",
        "download_only": "Fetch every source and build requirement into the cache, build nothing",
        "recipes": "Recipe directory (default: ./recipes, or $RVFORGE_RECIPES)",
        "distcc": "Compile helpers HOST[:PORT][/SLOTS],... (default: invoke.yaml build_wheels.distcc, "
                  "then the profile's distcc)",
        "cross_target": "Cross-build on this x86_64 machine for this profile (e.g. debian-riscv64) into "
                        "./wheelhouse/PROFILE, each wheel tested as target code under qemu-user",
        "blas": "Where builds needing a BLAS get it: system (the distro's OpenBLAS) or recipe (the openblas "
                "recipe's wheel; default: invoke.yaml build_wheels.blas, then the profile's blas)",
        "status": "Show who is building what in the cache, how far and the time left (read-only)",
        "json": "With --status: print it as JSON",
    },
)
def build_wheels(c, only=None, jobs=None, dry_run=False, wheelhouse=None, profile=None,
                 sysroot=None, force=False, download_only=False, recipes=None, distcc=None,
                 cross_target=None, status=False, json=False, blas=None):
    """Build numpy, scipy, scikit-image, Pillow, torch and torchvision wheels into the wheelhouse."""
    run_task(build_wheels_task.main, only=only or [], jobs=jobs, dry_run=dry_run,
        wheelhouse=wheelhouse, profile=profile, sysroot=sysroot, force=force,
        download_only=download_only, recipes=recipes, distcc=distcc, cross_target=cross_target,
        status=status, as_json=json, blas=blas,
        distcc_config=(c.config.get("build_wheels") or {}).get("distcc"),
        blas_config=(c.config.get("build_wheels") or {}).get("blas"))


@task(
    name="build-helper",
    help={
        "profile": "Target profile to compile for (default openeuler-riscv64: gcc 12, rv64gc/lp64d)",
        "listen": "Address distccd listens on (default 127.0.0.1)",
        "allow": "Networks allowed to send jobs, CIDR, comma-separated (required unless listening on loopback)",
        "port": "TCP port (default 3632)",
        "jobs": "Parallel compile slots (default: this machine's cores)",
        "install": "Install distcc and the target's gcc with apt-get when missing",
        "systemd": "Write a systemd user unit instead of running in the foreground",
        "stop": "Stop the running helper",
        "status": "Show whether the helper runs and how many jobs it compiled",
    },
)
def build_helper(c, profile=None, listen="127.0.0.1", allow=None, port=None, jobs=None, install=False,
                 systemd=False, stop=False, status=False):
    """Run distccd as a compile helper for a target profile (build-wheels --distcc uses it)."""
    code = run_task(build_helper_task.main, profile=profile, listen=listen, allow=allow, port=port,
                    jobs=jobs, install=install, systemd=systemd, stop=stop, status=status)
    if code:
        raise Exit(code=code)


@task(
    name="fetch-model",
    help={
        "from": "Local file (big-lama.zip / big-lama.pt) or URL to install from",
        "kind": "big-lama (official zip) or big-lama-jit (IOPaint TorchScript); default: from the file name",
        "dest": "Model directory (default: the per-user data dir)",
        "checksum": "Expected checksum of the file: md5:HEX or sha256:HEX",
    },
)
def fetch_model(c, from_=None, kind=None, dest=None, checksum=None):
    """Install and verify the LaMa weights into the per-user data dir."""
    run_task(fetch_model_task.main, source=from_, kind=kind, dest=dest, checksum=checksum)


@task(
    help={
        "target": "Deploy target: local, a name from configs/targets, or a path to a target .yaml",
        "prefix": "Install prefix on the target (default from the target file: ~/.local/lib/magiceraser)",
        "rollback": "Switch back to the previous release",
        "status": "Show the deployed releases and whether the service runs",
        "logs": "Show the service log",
        "wheelhouse": "Wheelhouse to install from (default: ./wheelhouse)",
        "torch": "Where torch comes from: wheelhouse, system (distro python3-torch) or wheel:PATH",
        "keep": "Releases to keep, at least 1 (default: the target file's keep)",
        "port": "Service port, 1-65535 (default: the target file's)",
    }
)
def deploy(c, target="local", prefix=None, rollback=False, status=False, logs=False, wheelhouse=None,
           torch=None, keep=None, port=None):
    """Install the eraser offline from the wheelhouse as a new release, health-check, switch."""
    run_task(deploy_task.main, target_name=target, prefix=prefix, rollback=rollback, status=status,
        logs=logs, wheelhouse=wheelhouse, torch=torch, keep=keep, port=port)


@task(
    help={
        "host": "Address to bind (default 127.0.0.1; anything else exposes the eraser)",
        "port": "Port, 1-65535 (default: the service's, 7777)",
        "model": "LaMa model path (default: MAGICERASER_MODEL, then the per-user data dir)",
        "prefix": "Deployed prefix to run from (default: the checkout)",
    }
)
def serve(c, host=None, port=None, model=None, prefix=None):
    """Run the eraser service and print its URL."""
    run_task(serve_task.main, host=host, port=port, model=model, prefix=prefix)


@task(
    help={
        "sizes": "Comma-separated WxH list (default 1280x720,1920x1080)",
        "quick": "One small size, one run: a smoke benchmark",
        "output": "Markdown file to append results to (default docs/benchmarks.md)",
        "model": "Time this model (big-lama dir, best.ckpt or big-lama.pt) instead of random big-lama weights",
        "threads": "This engine's threads (default all cores; the 2024 method always runs on 1)",
        "mkldnn": "oneDNN modes to run: on, off or both (default both)",
        "json": "Also write the results and the BLAS report (core, vector unit, sgemm GFLOP/s) to this JSON file",
    }
)
def bench(c, sizes=None, quick=False, output=None, model=None, threads=None, mkldnn=None, json=None):
    """Benchmark the eraser (oneDNN on/off, 2024 method vs this engine) into docs/benchmarks.md."""
    run_task(bench_task.main, sizes=sizes, quick=quick, output=output, model=model, threads=threads, mkldnn=mkldnn,
             json_path=json)


@task(help={"check": "Only report whether a generated file is stale (exit 2), change nothing"})
def regenerate(c, check=False):
    """Rewrite the files made from the code: README's generated sections, recipes/recipe.schema.json."""
    run_task(regenerate_task.main, check=check)


@task(
    name="riscv64-check",
    help={
        "rootfs": "riscv64 root filesystem (default: the cached one, created when missing)",
        "skip_build": "Skip cross-building Pillow on this machine (reuse the wheel an earlier run put there)",
        "skip_bench": "Skip the benchmark step (about 10 minutes under emulation)",
        "skip_distcc": "Skip the Pillow build through a compile helper on this machine (build-helper + distcc)",
        "native_build": "Also build Pillow inside the userland with local compiles only (about 10 minutes)",
    },
)
def riscv64_check(c, rootfs=None, skip_build=False, skip_bench=False, skip_distcc=False, native_build=False):
    """Run doctor, Pillow builds, deploy and an erase natively in an emulated riscv64 userland."""
    run_task(riscv64_check_task.main, rootfs=rootfs, skip_build=skip_build, skip_bench=skip_bench,
             skip_distcc=skip_distcc, native_build=native_build)
