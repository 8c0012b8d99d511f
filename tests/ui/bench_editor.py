"""Benchmark: the web editor with a large photo in headless Chromium (open, paint frame times, undo, erase).

    .venv/bin/python tests/ui/bench_editor.py --model tests/data/lama/tiny-lama [--megapixels 24]

Prints one Markdown table row per measurement for docs/benchmarks.md ("Web editor").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
from editor_page import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from live_server import live_server  # noqa: E402

FRAME_LOG = """() => {
    window.frameGaps = [];
    let last = performance.now();
    const tick = (t) => { window.frameGaps.push(t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
}"""


def large_photo(folder: Path, megapixels: float) -> Path:
    from skimage import data

    width = round((megapixels * 1e6 * 1.5) ** 0.5)
    path = folder / "large.jpg"
    photo = Image.fromarray(data.astronaut()).resize((width, round(width / 1.5)), Image.Resampling.BICUBIC)
    photo.save(path, quality=90)
    return path


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def run(url: str, photo: Path) -> list[tuple[str, str]]:
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url)
        page.evaluate("window.magiceraser.ready")
        start = time.perf_counter()
        page.set_input_files("#file-input", str(photo))
        page.wait_for_function("window.magiceraser.debug.state().width > 0", timeout=120_000)
        state = page.evaluate("window.magiceraser.debug.state()")
        rows.append((f"open {state['width']}x{state['height']} JPEG", f"{time.perf_counter() - start:.2f} s"))

        to_page = "([x, y]) => window.magiceraser.debug.imageToPage(x, y)"
        page.evaluate(FRAME_LOG)
        page.mouse.move(*page.evaluate(to_page, [state["width"] * 0.2, state["height"] * 0.25]))
        page.mouse.down()
        page.mouse.move(*page.evaluate(to_page, [state["width"] * 0.5, state["height"] * 0.5]), steps=60)
        page.mouse.up()
        gaps = page.evaluate("window.frameGaps")[5:]
        rows.append(("frame interval while painting (median / p95)",
                     f"{percentile(gaps, 0.5):.1f} / {percentile(gaps, 0.95):.1f} ms"))

        start = time.perf_counter()
        page.keyboard.press("Control+z")
        page.wait_for_function("window.magiceraser.debug.state().ops === 0")
        rows.append(("undo a stroke (mask replay)", f"{(time.perf_counter() - start) * 1000:.0f} ms"))
        page.keyboard.press("Control+Shift+z")

        start = time.perf_counter()
        page.click('[data-action="erase"]')
        page.wait_for_function("!window.magiceraser.debug.state().busy", timeout=600_000, polling=200)
        failed = page.query_selector(".toast.error")
        rows.append(("erase round trip (mask PNG, upload, inference, decode)",
                     failed.inner_text() if failed else f"{time.perf_counter() - start:.2f} s"))
        browser.close()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="LaMa model the server loads (the tiny reference is fine)")
    parser.add_argument("--megapixels", type=float, default=24)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, live_server(Path(args.model).resolve()) as server:
        for what, value in run(f"{server.url}/", large_photo(Path(folder), args.megapixels)):
            print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
