"""Ways in: drop, paste, touch and pinch, a stylus, mask tools, compare, and the guard against huge photos."""

from __future__ import annotations

import base64

import pytest
from editor_page import decode, expected_mask
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


@pytest.mark.parametrize("how, name, shown", [("drop", "chelsea.png", "chelsea.png"),
                                               ("paste", "image.png", "pasted.png")])
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


PEN_STROKE = [(80.0, 80.0), (200.0, 120.0), (260.0, 220.0)]


def test_pen_strokes_paint_the_mask_like_the_mouse(editor, photos):
    editor.open(photos["cat"])
    brush = editor.state()["brushSize"]
    editor.record_pointer_events()
    editor.pen_stroke(PEN_STROKE, pressure=0.35)
    seen = editor.pointer_events()
    down = [e for e in seen if e["type"] == "pointerdown"]
    assert down and all(e["pointerType"] == "pen" and e["trusted"] for e in seen), seen
    assert down[0]["pressure"] == pytest.approx(0.35, abs=0.01), "the stylus pressure reaches the page"
    assert editor.state()["ops"] == 1

    editor.page.keyboard.press("l")
    lasso = [(300.0, 40.0), (420.0, 50.0), (400.0, 160.0)]
    editor.pen_stroke([*lasso, lasso[0]], steps=4)
    assert editor.state()["ops"] == 2, "the lasso works with a stylus too"

    editor.erase()
    assert editor.error_text() is None
    painted = decode(editor.bytes("mask"))[1][..., 0] > 0
    surely_in, surely_out = expected_mask((451, 300), [(PEN_STROKE, brush)], [lasso])
    assert painted[surely_in].all(), "the mask sent misses part of the pen stroke or lasso"
    assert not painted[surely_out].any(), "the mask sent covers pixels the pen never touched"


def test_a_resting_palm_neither_breaks_nor_steals_a_pen_stroke(editor, photos):
    """Stylus users rest their hand on touch screens: the touch must not cancel, pinch or end the pen stroke."""
    editor.open(photos["cat"])
    scale = editor.state()["scale"]
    cdp = editor.page.context.new_cdp_session(editor.page)
    cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    palm = editor.to_page(400, 250)

    def palm_down_and_up() -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": palm[0], "y": palm[1]}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": palm[0] + 30, "y": palm[1]}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})

    editor.record_pointer_events()
    editor.pen_stroke(PEN_STROKE, between=palm_down_and_up)
    downs = [e["pointerType"] for e in editor.pointer_events() if e["type"] == "pointerdown"]
    assert downs == ["pen", "touch"], "the palm landed while the pen was down"
    state = editor.state()
    assert state["ops"] == 1, "the pen stroke (and only it) is in the history"
    assert state["scale"] == pytest.approx(scale), "pen and palm are no pinch"
    drawn = editor.page.evaluate("window.magiceraser.debug.maskCoverage()")
    assert drawn["x1"] > 260 and drawn["y1"] > 220, "the stroke goes on after the palm lifted"
    assert drawn["x1"] < 300, "the palm painted nothing"
    editor.page.click('[data-action="undo"]')
    assert editor.page.evaluate("window.magiceraser.debug.maskCoverage()") is None, "undo removes the whole stroke"


def test_the_pen_eraser_end_unpaints_without_changing_the_tool(editor, photos):
    """The stylus's eraser end erases mask paint like the eraser tool, undoably, while the brush stays selected.

    The eraser end's events come from the page (see EditorPage.pen_eraser_stroke): Chromium's DevTools
    input cannot send an eraser button."""
    editor.open(photos["cat"])
    brush = editor.state()["brushSize"]
    coverage = "window.magiceraser.debug.maskCoverage()"
    tip = [(60.0, 150.0), (390.0, 150.0)]
    eraser = [(225.0, 60.0), (225.0, 240.0)]
    editor.pen_stroke(tip)
    painted = editor.page.evaluate(coverage)
    editor.pen_eraser_stroke(eraser)
    assert editor.state()["ops"] == 2, "the eraser end's stroke is in the history"
    assert editor.page.evaluate(coverage)["count"] < painted["count"] - brush * brush // 2
    pressed = editor.page.eval_on_selector_all("[data-tool]", "(bs) => bs.map((b) => [b.dataset.tool, b.ariaPressed])")
    assert dict(pressed) == {"brush": "true", "eraser": "false", "lasso": "false"}, "the toolbar tool is unchanged"

    editor.erase()
    assert editor.error_text() is None
    sent = decode(editor.bytes("mask"))[1][..., 0] > 0
    tip_in, tip_out = expected_mask((451, 300), [(tip, brush)], [])
    eraser_in, eraser_out = expected_mask((451, 300), [(eraser, brush)], [])
    assert sent[tip_in & eraser_out].all(), "the tip's paint outside the eraser's path is sent"
    assert not sent[tip_out | eraser_in].any(), "the eraser end's path is left unpainted"

    editor.page.click('[data-action="undo"]')
    editor.page.click('[data-action="undo"]')
    restored = editor.page.evaluate(coverage)
    assert editor.state()["ops"] == 1
    assert restored["count"] == pytest.approx(painted["count"], rel=0.01), "undo gives the erased paint back"
    editor.pen_stroke(tip)
    assert editor.state()["ops"] == 2 and editor.page.evaluate(coverage)["count"] >= restored["count"], \
        "after the eraser end, the pen tip paints with the brush again"


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
