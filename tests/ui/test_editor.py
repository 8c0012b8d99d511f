"""The web editor in a real Chromium against real ``magiceraser serve`` processes."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from editor_page import decode, expected_mask
from PIL import Image

pytestmark = pytest.mark.browser

EXIF_MAKE = 0x010F
STROKE = [(110.0, 100.0), (190.0, 140.0), (230.0, 90.0)]
LASSO = [(300.0, 300.0), (430.0, 310.0), (420.0, 430.0), (310.0, 420.0)]
SHUTTLE = [(380.0, 0.0), (459.0, 0.0), (462.0, 115.0), (475.0, 170.0), (479.0, 245.0), (471.0, 302.0),
           (356.0, 302.0), (350.0, 245.0), (368.0, 150.0), (376.0, 60.0)]


def test_erase_changes_only_the_painted_pixels_and_undo_restores(editor, photos):
    original_bytes = photos["png"].read_bytes()
    _, original = decode(original_bytes)
    editor.open(photos["png"])
    assert editor.page.inner_text("#status-size") == "512 × 512 px"
    brush = editor.state()["brushSize"]
    editor.drag(STROKE)
    editor.page.keyboard.press("l")
    editor.drag(LASSO)
    editor.screenshot("editor-tiny-lama-before.png")

    editor.erase()
    assert editor.error_text() is None
    editor.screenshot("editor-tiny-lama-after.png")
    name, result_bytes = editor.download(use_shortcut=True)

    assert name == "astronaut_erased.png"
    result_image, result = decode(result_bytes)
    assert (result_image.format, result_image.size) == ("PNG", (512, 512))
    assert result_bytes == editor.bytes("photo"), "the download must be the server's bytes, not a re-encode"

    mask_image, mask = decode(editor.bytes("mask"))
    assert mask_image.size == (512, 512)
    painted = mask[..., 0] > 0
    surely_in, surely_out = expected_mask((512, 512), [(STROKE, brush)], [LASSO])
    assert painted[surely_in].all(), "the mask sent misses part of the stroke or lasso"
    assert not painted[surely_out].any(), "the mask sent covers pixels nobody painted"

    changed = (result != original).any(axis=2)
    assert not changed[~painted].any(), "pixels outside the mask changed"
    assert changed[surely_in].mean() > 0.5, "the painted area was not erased"

    editor.page.keyboard.press("Control+z")
    editor.page.wait_for_function("!window.magiceraser.debug.state().edited")
    assert editor.bytes("photo") == original_bytes
    assert editor.state()["ops"] == 2, "undoing the erase brings the mask back"
    editor.page.keyboard.press("Control+Shift+z")
    editor.page.wait_for_function("window.magiceraser.debug.state().edited")
    assert editor.bytes("photo") == result_bytes


WATCH_PROGRESS = """() => {
    window.progressSeen = [];
    const erase = document.querySelector('[data-action="erase"]');
    new MutationObserver(() => window.progressSeen.push({
        text: document.querySelector("#progress-time").textContent, eraseDisabled: erase.disabled,
    })).observe(document.querySelector("#progress-time"), { childList: true, characterData: true, subtree: true });
}"""


def test_jpeg_download_keeps_format_size_and_exif(editor, photos):
    editor.open(photos["jpeg"])
    editor.drag([(250.0, 420.0), (300.0, 440.0)])
    editor.page.evaluate(WATCH_PROGRESS)
    editor.erase()
    assert editor.error_text() is None
    seen = editor.page.evaluate("window.progressSeen")
    assert seen and all(s["eraseDisabled"] for s in seen), "Erase stays disabled while the request runs"
    assert any(re.fullmatch(r"\d+\.\d s of about \d+\.\d s", s["text"]) for s in seen), seen
    name, data = editor.download(use_shortcut=False)
    image, _ = decode(data)
    assert name == "astronaut_erased.jpg"
    assert (image.format, image.size) == ("JPEG", (512, 512))
    assert image.getexif().get(EXIF_MAKE) == "MagicEraser test camera"


@pytest.mark.parametrize("kind, name, fmt", [("bmp", "astronaut_erased.bmp", "BMP"),
                                             ("webp", "astronaut_erased.webp", "WEBP")])
def test_edits_accumulate_and_the_format_is_kept(editor, photos, kind, name, fmt):
    _, original = decode(photos[kind].read_bytes())
    editor.open(photos[kind])
    first, second = [(60.0, 60.0), (120.0, 60.0)], [(400.0, 400.0), (460.0, 400.0)]
    editor.drag(first)
    editor.erase()
    assert editor.state()["ops"] == 0, "the mask clears once the result is in"
    editor.drag(second)
    editor.erase()
    assert editor.error_text() is None
    saved_as, data = editor.download(use_shortcut=True)
    image, pixels = decode(data)
    assert (saved_as, image.format, image.size) == (name, fmt, (512, 512))
    for (x, y), _ in (first, second):
        patch = (slice(int(y) - 3, int(y) + 3), slice(int(x) + 20, int(x) + 40))
        assert (pixels[patch] != original[patch]).any(), f"the erase at {x:.0f},{y:.0f} is missing"


def test_rotated_phone_photo_is_masked_and_erased_upright(editor, photos):
    """EXIF orientation 6: the page shows (and masks) the photo upright; the server must agree."""
    editor.open(photos["rotated"])
    assert editor.page.inner_text("#status-size") == "300 × 451 px"
    editor.drag([(150.0, 300.0), (160.0, 320.0)])
    editor.erase()
    assert editor.error_text() is None

    asked = []
    editor.page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    editor.page.set_input_files("#file-input", str(photos["cat"]))
    editor.page.wait_for_timeout(300)
    assert asked and "phone.jpg" in asked[0], "opening another photo warns about the undownloaded result"
    assert editor.page.inner_text("#status-file") == "phone.jpg"

    image, _ = decode(editor.download(use_shortcut=True)[1])
    assert image.size == (300, 451)


def test_mask_stays_aligned_when_zoomed_and_panned(editor, photos):
    editor.open(photos["cat"])
    fitted = editor.state()["scale"]
    editor.page.mouse.move(*editor.to_page(300, 150))
    for _ in range(4):
        editor.page.mouse.wheel(0, -240)
    editor.page.wait_for_function(f"window.magiceraser.debug.state().scale > {fitted * 2}")
    size = editor.state()["brushSize"]
    editor.page.keyboard.press("]")
    assert editor.state()["brushSize"] > size
    editor.drag([(300.0, 150.0)])
    box = editor.page.evaluate("window.magiceraser.debug.maskCoverage()")
    centre = ((box["x0"] + box["x1"]) / 2, (box["y0"] + box["y1"]) / 2)
    assert centre == pytest.approx((300, 150), abs=1.5)
    assert box["x1"] - box["x0"] == pytest.approx(editor.state()["brushSize"], abs=2)
    at = editor.to_page(300, 150)
    editor.page.keyboard.down("Space")
    editor.page.mouse.move(*at)
    editor.page.mouse.down()
    editor.page.mouse.move(at[0] - 100, at[1] - 50, steps=4)
    editor.page.mouse.up()
    editor.page.keyboard.up("Space")
    moved = editor.to_page(300, 150)
    assert moved == pytest.approx((at[0] - 100, at[1] - 50), abs=1)
    editor.page.mouse.move(*moved)
    editor.page.mouse.down(button="middle")
    editor.page.mouse.move(*at, steps=4)
    editor.page.mouse.up(button="middle")
    assert editor.to_page(300, 150) == pytest.approx(at, abs=1)
    assert editor.state()["ops"] == 1, "panning must not paint"
    editor.page.click('[data-action="fit"]')
    assert editor.state()["scale"] == pytest.approx(fitted)


def test_too_large_photo_shows_the_server_error_and_stays_usable(editor, photos):
    editor.open(photos["too_large"])
    editor.drag([(100.0, 100.0), (200.0, 120.0)])
    editor.erase()
    message = editor.error_text()
    assert message is not None and "too large" in message and "300,000" in message
    state = editor.state()
    assert not state["busy"] and not state["edited"] and state["ops"] == 1
    assert editor.page.is_enabled('[data-action="erase"]')


def _send_mask_of_size(editor, size: tuple[int, int]):
    """A route handler that sends the page's request on with its mask swapped for a white PNG of ``size``,
    so the real server refuses it (400: mask and photo sizes differ). The body is written out again because
    an intercepted request carries no bytes for a part backed by a file on disk (the photo)."""
    mask = BytesIO()
    Image.new("L", size, 255).save(mask, "PNG")

    def handle(route) -> None:
        boundary = route.request.headers["content-type"].split("boundary=", 1)[1].encode()
        parts = [(b"image", b"image.png", editor.bytes("photo")), (b"mask", b"mask.png", mask.getvalue())]
        body = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                        b"Content-Type: image/png\r\n\r\n%s\r\n" % (boundary, name, filename, data)
                        for name, filename, data in parts) + b"--%s--\r\n" % boundary
        route.continue_(post_data=body)
    return handle


def test_refused_request_shows_the_reason_keeps_the_work_and_erase_works_again(editor, photos):
    original = photos["cat"].read_bytes()
    editor.open(photos["cat"])
    editor.drag([(100.0, 100.0), (180.0, 140.0)])
    editor.drag([(300.0, 200.0), (340.0, 230.0)])
    editor.page.route("**/api/v1/inpaint", _send_mask_of_size(editor, (64, 64)), times=1)
    with editor.page.expect_response("**/api/v1/inpaint") as answer:
        editor.erase()
    refused = answer.value
    assert refused.status == 400
    reason = refused.json()["error"]
    assert "mask is 64x64 but the image is 451x300" in reason

    message = editor.error_text()
    assert message is not None and message.startswith(f"The eraser refused the request ({reason})."), message
    assert not re.search(r"Error:|Traceback|\.js:\d|[{}]", message), "words for people, not a stack trace"
    assert "unchanged" in editor.page.inner_text("#status-message")
    state = editor.state()
    assert not state["busy"] and not state["edited"] and state["ops"] == 2, "the strokes are kept"
    assert editor.bytes("photo") == original, "the loaded photo is kept"
    first_mask = decode(editor.bytes("mask"))[1]
    assert editor.page.is_enabled('[data-action="erase"]')

    editor.page.click(".toast.error button")
    editor.erase()
    assert editor.error_text() is None
    state = editor.state()
    assert state["edited"] and state["ops"] == 0
    assert (decode(editor.bytes("mask"))[1] == first_mask).all(), "the retry sends the very mask drawn before"
    result = decode(editor.bytes("photo"))[1]
    assert (result[95:105, 120:160] != decode(original)[1][95:105, 120:160]).any(), "the retry erased"


def test_busy_server_answer_is_explained(editor, photos):
    """A 503 cannot be produced on demand with a fast model, so this one answer is staged."""
    editor.page.route("**/api/v1/inpaint", lambda route: route.fulfill(
        status=503, headers={"Retry-After": "7"}, json={"error": "2 requests are already waiting"}))
    editor.open(photos["cat"])
    editor.drag([(100.0, 100.0), (150.0, 120.0)])
    editor.erase()
    message = editor.error_text()
    assert message is not None and "busy" in message and "7 s" in message
    assert editor.page.is_enabled('[data-action="erase"]')


def test_first_screen_invites_a_photo_and_help_lists_the_shortcuts(editor):
    assert editor.page.locator(".empty-card").is_visible()
    assert "Open a photo" in editor.page.inner_text(".empty-card")
    editor.page.keyboard.press("?")
    dialog = editor.page.locator("#help")
    assert dialog.is_visible()
    assert "Undo" in dialog.inner_text() and "Ctrl" in dialog.inner_text()
    editor.page.keyboard.press("Escape")
    assert not dialog.is_visible()


def test_classical_engine_banner_says_how_to_install_the_model(classical_editor, photos):
    page = classical_editor.page
    banner = page.locator("#engine-banner")
    banner.wait_for(state="visible")
    assert "invoke fetch-model" in banner.inner_text()
    assert "Classical" in banner.inner_text()
    page.click("#engine-banner button")
    assert not banner.is_visible()

    # The pictures in docs/img: the space shuttle lassoed away.
    classical_editor.open(photos["png"])
    page.keyboard.press("l")
    classical_editor.drag(SHUTTLE, steps=3)
    classical_editor.screenshot("editor-before.png")
    classical_editor.erase()
    assert classical_editor.error_text() is None
    classical_editor.screenshot("editor-after.png")


@pytest.mark.parametrize("width, height", [(1280, 720), (1024, 600)])
def test_layout_fits_small_laptop_screens(editor, photos, width, height):
    editor.page.set_viewport_size({"width": width, "height": height})
    editor.open(photos["png"])
    layout = editor.page.evaluate("""() => ({
        overflow: document.documentElement.scrollWidth - innerWidth,
        toolbar: document.querySelector('.toolbar').getBoundingClientRect().height,
        stage: document.querySelector('#stage').getBoundingClientRect().height,
        unnamed: [...document.querySelectorAll('button')].filter(b => !b.innerText.trim()
                   && !b.getAttribute('aria-label')).length,
    })""")
    assert layout["overflow"] <= 0
    assert layout["toolbar"] < 60, "the toolbar wrapped onto a second row"
    assert layout["stage"] > height * 0.7
    assert layout["unnamed"] == 0, "every button needs an accessible name"
