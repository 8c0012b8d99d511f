"""Drives the editor page the way a user does (file picker, mouse, keys) and reads back what it sent."""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CHROMIUM = "/usr/bin/chromium"  # Debian's build; Playwright's own browser download is never used
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 90_000  # the shared 2-core CI host can be slow to start an erase


def decode(data: bytes) -> tuple[Image.Image, np.ndarray]:
    """The image object (format, size, EXIF) and its RGB pixels."""
    image = Image.open(BytesIO(data))
    image.load()
    return image, np.asarray(image.convert("RGB"))


class EditorPage:
    def __init__(self, page, url: str, artifacts: Path):
        self.page = page
        self.url = url
        self.artifacts = artifacts

    def goto(self) -> None:
        self.page.goto(f"{self.url}/")
        self.page.evaluate("window.magiceraser.ready")

    def state(self) -> dict:
        return self.page.evaluate("window.magiceraser.debug.state()")

    def open(self, path: Path) -> None:
        self.page.set_input_files("#file-input", str(path))
        self.page.wait_for_function("window.magiceraser.debug.state().width > 0", timeout=WAIT_MS)

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        return tuple(self.page.evaluate("([x, y]) => window.magiceraser.debug.imageToPage(x, y)", [x, y]))

    def drag(self, points: list[tuple[float, float]], steps: int = 6) -> None:
        """Press at the first image point, move through the others in straight steps, release."""
        mouse = self.page.mouse
        mouse.move(*self.to_page(*points[0]))
        mouse.down()
        for point in points[1:]:
            mouse.move(*self.to_page(*point), steps=steps)
        mouse.up()

    def pen_stroke(self, points: list[tuple[float, float]], pressure: float = 0.6, steps: int = 6,
                   between=None) -> None:
        """Draw with a stylus: trusted pointer events of type "pen" with pressure, sent the way a tablet's
        driver sends them (hover in, touch down, move, lift). ``between`` runs once, after the first move."""
        cdp = self.page.context.new_cdp_session(self.page)

        def send(kind: str, x: float, y: float, force: float, buttons: int) -> None:
            cdp.send("Input.dispatchMouseEvent", {
                "type": kind, "x": x, "y": y, "pointerType": "pen", "force": force, "tiltX": 20, "tiltY": -10,
                "button": "none" if kind == "mouseMoved" and not buttons else "left", "buttons": buttons,
                "clickCount": 1 if kind != "mouseMoved" else 0})

        path = self._pen_path(points, steps)
        send("mouseMoved", *path[0], 0, 0)
        send("mousePressed", *path[0], pressure, 1)
        for x, y in path[1:]:
            send("mouseMoved", x, y, pressure, 1)
            if between:
                between()
                between = None
        send("mouseReleased", *path[-1], 0, 0)
        cdp.detach()

    def pen_eraser_stroke(self, points: list[tuple[float, float]], steps: int = 6) -> None:
        """Stroke with the stylus's eraser end: button 5 on press and lift, bit 32 in ``buttons`` while down.

        Chromium's DevTools input (Input.dispatchMouseEvent) has no eraser button and drops bit 32 of
        ``buttons``, so the pen hovers in for real (a live pen pointer the page may capture) and the press,
        moves and lift are PointerEvents dispatched from the page with that pen's pointerId."""
        self.page.evaluate("""() => { window.penId = new Promise((resolve) => document.querySelector("#view")
            .addEventListener("pointermove", (e) => resolve(e.pointerId), { once: true })); }""")
        cdp = self.page.context.new_cdp_session(self.page)
        path = self._pen_path(points, steps)
        cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": path[0][0], "y": path[0][1],
                                              "pointerType": "pen", "button": "none", "buttons": 0})
        cdp.detach()
        self.page.evaluate("""async (path) => {
            const pointerId = await window.penId;
            const view = document.querySelector("#view");
            const send = (type, [clientX, clientY], button, buttons) => view.dispatchEvent(new PointerEvent(type, {
                bubbles: true, cancelable: true, pointerId, pointerType: "pen", isPrimary: true,
                clientX, clientY, button, buttons, pressure: buttons ? 0.6 : 0 }));
            send("pointerdown", path[0], 5, 32);
            path.slice(1).forEach((point) => send("pointermove", point, -1, 32));
            send("pointerup", path.at(-1), 5, 0);
        }""", path)

    def _pen_path(self, points: list[tuple[float, float]], steps: int) -> list[tuple[float, float]]:
        """Page positions from the first image point through the others in ``steps`` straight steps each."""
        screen = [self.to_page(*point) for point in points]
        path = screen[:1]
        for (ax, ay), (bx, by) in zip(screen, screen[1:], strict=False):
            path += [(ax + (bx - ax) * i / steps, ay + (by - ay) * i / steps) for i in range(1, steps + 1)]
        return path

    def record_pointer_events(self) -> None:
        """From now on, remember the type and pressure of every pointer event that reaches the view."""
        self.page.evaluate("""() => {
            window.pointerSeen = [];
            const view = document.querySelector("#view");
            for (const type of ["pointerdown", "pointermove", "pointerup", "pointercancel"]) {
                view.addEventListener(type, (e) => window.pointerSeen.push(
                    { type, pointerType: e.pointerType, pressure: e.pressure, trusted: e.isTrusted }));
            }
        }""")

    def pointer_events(self) -> list[dict]:
        return self.page.evaluate("window.pointerSeen")

    def erase(self) -> None:
        """Press Erase and wait until a result replaced the photo or an error is shown."""
        before = self.state()["photoSerial"]
        self.page.click('[data-action="erase"]')
        self.page.wait_for_function(
            """(before) => {
                const s = window.magiceraser.debug.state();
                return !s.busy && (s.photoSerial !== before || document.querySelector('.toast.error'));
            }""", arg=before, timeout=WAIT_MS)

    def error_text(self) -> str | None:
        toast = self.page.query_selector(".toast.error")
        return toast.inner_text() if toast else None

    def bytes(self, what: str) -> bytes:
        """'mask' (last one sent), 'photo' (current) or 'original', as the page holds them."""
        encoded = self.page.evaluate("(w) => window.magiceraser.debug.bytes(w)", what)
        assert encoded is not None, f"the page holds no {what}"
        return base64.b64decode(encoded)

    def download(self, use_shortcut: bool) -> tuple[str, bytes]:
        with self.page.expect_download() as info:
            if use_shortcut:
                self.page.keyboard.press("Control+s")
            else:
                self.page.click('[data-action="download"]')
        download = info.value
        return download.suggested_filename, Path(download.path()).read_bytes()

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / name
        self.page.mouse.move(2, 2)  # keep the brush cursor out of the picture
        self.page.wait_for_timeout(150)
        self.page.screenshot(path=str(path))
        return path


def expected_mask(size: tuple[int, int], strokes: list[tuple[list[tuple[float, float]], float]],
                  lassos: list[list[tuple[float, float]]], tolerance: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """(surely_masked, surely_unmasked) boolean maps from the drawn geometry.

    Pixels within ``tolerance`` of an edge are in neither: antialiasing and pointer rounding decide them."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inside = np.zeros((height, width), bool)
    outside = np.ones((height, width), bool)
    for points, diameter in strokes:
        dist = _distance_to_polyline(xs, ys, points)
        inside |= dist <= diameter / 2 - tolerance
        outside &= dist >= diameter / 2 + tolerance
    for polygon in lassos:
        canvas = Image.new("L", size, 0)
        ImageDraw.Draw(canvas).polygon(polygon, fill=255)
        margin = 2 * int(np.ceil(tolerance)) + 1
        inside |= np.asarray(canvas.filter(ImageFilter.MinFilter(margin))) > 0
        outside &= np.asarray(canvas.filter(ImageFilter.MaxFilter(margin))) == 0
    return inside, outside


def _distance_to_polyline(xs: np.ndarray, ys: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    best = np.full(xs.shape, np.inf)
    for (ax, ay), (bx, by) in zip(points, points[1:] or points, strict=False):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = np.zeros_like(xs) if length2 == 0 else np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0, 1)
        best = np.minimum(best, np.hypot(xs - (ax + t * dx), ys - (ay + t * dy)))
    return best
