"""Browser fixtures: Debian's Chromium driven by Playwright against real ``magiceraser serve`` processes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from editor_page import CHROMIUM, CHROMIUM_ARGS, EditorPage  # noqa: E402
from live_server import live_server  # noqa: E402

# Small enough that a 600x600 photo is refused (413), large enough for the 512x512 test photos.
MAX_PIXELS = 300_000
EXIF_MAKE = 0x010F
EXIF_ORIENTATION = 0x0112


@pytest.fixture(scope="session")
def artifacts(repo_root: Path) -> Path:
    """test-artifacts/ui in the checkout (git-ignored): screenshots for people to look at."""
    path = repo_root / "test-artifacts" / "ui"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="install the [test] extras: pip install -e '.[test]'")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (bash ci/setup.sh --dev does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lama_server(lama_reference: Path):
    """The eraser with the tiny reference LaMa checkpoint and a small pixel limit."""
    with live_server(lama_reference / "tiny-lama", "--max-pixels", str(MAX_PIXELS)) as running:
        yield running


@pytest.fixture(scope="session")
def classical_server(lama_reference: Path, tmp_path_factory):
    """The eraser on a machine with no LaMa model installed (empty data dir, no MAGICERASER_MODEL).

    An empty ``--model`` after the helper's own one means "not given", so the server looks in the
    (empty) per-user data dir and falls back to the classical engine."""
    home = tmp_path_factory.mktemp("no-model-home")
    with live_server(lama_reference / "tiny-lama", "--model", "",
                     env={"MAGICERASER_HOME": str(home), "MAGICERASER_MODEL": ""}) as running:
        yield running


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> dict[str, Path]:
    """Real photos (scikit-image's samples) as PNG and JPEG (with EXIF), a phone-style rotated JPEG,
    and one over the pixel limit."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    astronaut = Image.fromarray(data.astronaut())
    paths = {"png": folder / "astronaut.png", "jpeg": folder / "astronaut.jpg", "cat": folder / "chelsea.png",
             "rotated": folder / "phone.jpg", "too_large": folder / "wide.png",
             "bmp": folder / "astronaut.bmp", "webp": folder / "astronaut.webp"}
    for kind in ("png", "bmp", "webp"):
        astronaut.save(paths[kind])
    exif = Image.Exif()
    exif[EXIF_MAKE] = "MagicEraser test camera"
    astronaut.save(paths["jpeg"], quality=90, exif=exif)
    cat = Image.fromarray(data.chelsea())
    cat.save(paths["cat"])
    turned = Image.Exif()
    turned[EXIF_ORIENTATION] = 6  # stored landscape, shown portrait
    cat.save(paths["rotated"], quality=90, exif=turned)
    big = astronaut.resize((600, 600))
    assert big.width * big.height > MAX_PIXELS
    big.save(paths["too_large"])
    return paths


def _editor(browser, server, artifacts: Path, request):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    editor = EditorPage(page, server.url, artifacts)
    editor.goto()
    yield editor
    outcome = getattr(request.node, "rep_call", None)
    if outcome is not None and outcome.failed:
        page.screenshot(path=str(artifacts / f"failed-{request.node.name}.png"))
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def editor(browser, lama_server, artifacts, request):
    """A fresh page on the LaMa server, 1280x720."""
    yield from _editor(browser, lama_server, artifacts, request)


@pytest.fixture
def classical_editor(browser, classical_server, artifacts, request):
    """A fresh page on the server that has no LaMa model."""
    yield from _editor(browser, classical_server, artifacts, request)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's outcome on the test item, so fixtures can screenshot failures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)

