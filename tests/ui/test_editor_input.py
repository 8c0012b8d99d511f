"""Ways in: drop, paste, touch and pinch, mask tools, compare, and the guard against huge photos."""

from __future__ import annotations

import base64

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

HAND_OVER_FILE = """async ([b64, name, how]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const files = new DataTransfer();
    files.items.add(new File([bytes], name, { type: "image/png" }));
    const init = { bubbles: true, cancelable: true };
    const event = how === "drop"
        ? new DragEvent("drop", { ...init, dataTransfer: files })
        : new ClipboardEvent("paste", { ...init, clipboardData: files });
    document.querySelector("#stage").dispatchEvent(event);
}"""


def _status(editor) -> tuple[str, str]:
    return editor.page.inner_text("#status-file"), editor.page.inner_text("#status-size")


@pytest.mark.parametrize("how, name, shown", [("drop", "chelsea.png", "chelsea.png"), ("paste", "image.png", "pasted.png")])
def test_drop_and_paste_open_a_photo(editor, photos, how, name, shown):
    data = base64.b64encode(photos["cat"].read_bytes()).decode()
    editor.page.evaluate(HAND_OVER_FILE, [data, name, how])
    editor.page.wait_for_function("window.magiceraser.debug.state().width > 0")
    assert _status(editor) == (shown, "451 × 300 px")


def test_touch_paints_and_two_fingers_zoom_without_painting(editor, photos):
    editor.open(photos["cat"])
    cdp = editor.page.context.new_cdp_session(editor.page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    x, y = editor.to_page(100, 100)
    touch("touchStart", [(x, y)])
    touch("touchMove", [(x + 20, y)])
    touch("touchEnd", [])
    assert editor.state()["ops"] == 1

    scale = editor.state()["scale"]
    cx, cy = editor.to_page(300, 200)
    touch("touchStart", [(cx - 20, cy), (cx + 20, cy)])
    for spread in range(30, 90, 10):
        touch("touchMove", [(cx - spread, cy), (cx + spread, cy)])
    touch("touchEnd", [])
    state = editor.state()
    assert state["scale"] > scale * 3
    assert state["ops"] == 1, "a pinch must not leave a stroke behind"
    assert editor.to_page(300, 200) == pytest.approx((cx, cy), abs=2), "pinch zooms about the fingers"


def test_invert_clear_and_undo_of_mask_tools(editor, photos):
    editor.open(photos["cat"])
    coverage = "window.magiceraser.debug.maskCoverage()"
    editor.page.click('[data-action="invert"]')
    assert editor.page.evaluate(coverage)["count"] == 451 * 300
    editor.page.keyboard.press("e")
    editor.drag([(50.0, 50.0), (150.0, 50.0)])
    assert editor.page.evaluate(coverage)["count"] < 451 * 300
    editor.page.click('[data-action="clear"]')
    assert editor.page.evaluate(coverage) is None
    editor.page.click('[data-action="undo"]')
    editor.page.click('[data-action="undo"]')
    assert editor.page.evaluate(coverage)["count"] == 451 * 300
    editor.page.click('[data-action="redo"]')
    assert editor.page.evaluate(coverage)["count"] < 451 * 300


def test_holding_c_or_the_compare_button_shows_the_original(editor, photos):
    editor.open(photos["cat"])
    badge = editor.page.locator("#compare-badge")
    editor.page.keyboard.down("c")
    assert badge.is_visible()
    assert editor.page.get_attribute("body", "data-comparing") == "true"
    editor.page.keyboard.up("c")
    assert not badge.is_visible()
    editor.page.focus('[data-action="compare"]')
    editor.page.keyboard.down("Enter")
    assert badge.is_visible(), "the Compare button can be held from the keyboard too"
    editor.page.keyboard.up("Enter")
    assert not badge.is_visible()


def test_huge_photo_is_refused_before_it_can_exhaust_the_browser(editor, photos, tmp_path):
    editor.open(photos["cat"])
    huge = tmp_path / "huge.png"
    Image.new("RGB", (9000, 6000), (90, 120, 150)).save(huge)
    editor.page.set_input_files("#file-input", str(huge))
    editor.page.wait_for_selector(".toast.error")
    assert "too large to edit in the browser" in editor.error_text()
    assert _status(editor) == ("chelsea.png", "451 × 300 px"), "the open photo stays"
