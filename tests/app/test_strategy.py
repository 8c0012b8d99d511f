"""HD strategy: windows per mask group, merged when they touch, shifted inside, only masked pixels change."""

from __future__ import annotations

import numpy as np
import pytest

from magiceraser.strategy import (
    InpaintOptions,
    Window,
    context_window,
    mask_groups,
    plan_windows,
    run,
)


def _mask(shape, *boxes):
    mask = np.zeros(shape, bool)
    for top, left, bottom, right in boxes:
        mask[top:bottom, left:right] = True
    return mask


def test_groups_are_tight_boxes():
    mask = _mask((300, 400), (10, 20, 30, 60), (200, 300, 250, 390))
    assert sorted(mask_groups(mask), key=lambda w: w.top) == [Window(10, 20, 30, 60), Window(200, 300, 250, 390)]


def test_window_is_shifted_not_shrunk_at_the_border():
    win = context_window(Window(0, 380, 20, 400), margin=50, shape=(300, 400))
    assert (win.height, win.width) == (120, 120)
    assert (win.top, win.right) == (0, 400)


def test_window_larger_than_image_is_clamped():
    assert context_window(Window(10, 10, 290, 20), margin=50, shape=(300, 400)) == Window(0, 0, 300, 110)


def test_overlapping_and_touching_windows_merge_and_cover_every_mask_pixel():
    # A and B are 100 px apart (windows of margin 60 overlap), C is far away
    mask = _mask((1000, 1500), (100, 100, 150, 200), (100, 300, 150, 400), (800, 1300, 850, 1400))
    windows = plan_windows(mask, margin=60)
    assert len(windows) == 2
    covered = np.zeros_like(mask, dtype=int)
    for win in windows:
        covered[win.slices] += 1
    assert covered[mask].min() == 1 and covered.max() == 1  # disjoint, every hole pixel inside one window
    for a in windows:
        for b in windows:
            assert a is b or not a.touches(b)


def test_windows_that_merely_touch_are_merged():
    mask = _mask((400, 1000), (100, 100, 110, 110), (100, 230, 110, 240))  # windows meet at x=170
    assert len(plan_windows(mask, margin=60)) == 1


class Recorder:
    """An InpaintFn that paints the hole white and records what it was given."""

    def __init__(self):
        self.calls = []

    def __call__(self, rgb, mask):
        self.calls.append((rgb.shape, int(mask.sum())))
        out = rgb.copy()
        out[mask] = 255
        return out


@pytest.fixture
def photo():
    rng = np.random.default_rng(1)
    return rng.integers(0, 250, (1080, 1920, 3), dtype=np.uint8)


def test_crop_runs_one_call_per_window_and_changes_only_masked_pixels(photo):
    mask = _mask(photo.shape[:2], (400, 500, 550, 700), (420, 760, 500, 800), (50, 1700, 90, 1900))
    fn = Recorder()
    out = run(fn, photo, mask, InpaintOptions())
    assert len(fn.calls) == 2  # the two nearby objects share one window
    assert sum(n for _, n in fn.calls) == mask.sum()
    assert np.array_equal(out[~mask], photo[~mask])
    assert (out[mask] == 255).all()


def test_below_the_trigger_the_whole_image_runs(photo):
    small = photo[:600, :800]
    fn = Recorder()
    run(fn, small, _mask(small.shape[:2], (10, 10, 20, 20)), InpaintOptions())
    assert fn.calls == [((600, 800, 3), 100)]


def test_large_window_is_downscaled_to_the_limit_and_pasted_under_the_mask_only(photo):
    mask = _mask(photo.shape[:2], (100, 100, 900, 1700))
    fn = Recorder()
    out = run(fn, photo, mask, InpaintOptions(resize_limit=512))
    (shape, _), = fn.calls
    assert max(shape[:2]) == 512
    assert np.array_equal(out[~mask], photo[~mask])
    assert (out[mask] == 255).all()


def test_resize_and_original_strategies(photo):
    mask = _mask(photo.shape[:2], (500, 500, 520, 520))
    fn = Recorder()
    run(fn, photo, mask, InpaintOptions(strategy="resize", resize_limit=960))
    run(fn, photo, mask, InpaintOptions(strategy="original"))
    assert [shape for shape, _ in fn.calls] == [(540, 960, 3), (1080, 1920, 3)]


def test_empty_mask_returns_a_copy_without_calling_the_model(photo):
    fn = Recorder()
    out = run(fn, photo, np.zeros(photo.shape[:2], bool), InpaintOptions())
    assert fn.calls == [] and np.array_equal(out, photo) and out is not photo


def test_options_from_request_fields():
    opts = InpaintOptions.from_mapping({"strategy": "Resize", "crop_margin": "64", "resize_limit": 900,
                                        "crop_trigger": None})
    assert opts == InpaintOptions(strategy="resize", crop_margin=64, resize_limit=900)
    with pytest.raises(ValueError, match="strategy must be one of crop, resize, original"):
        InpaintOptions.from_mapping({"strategy": "tile"})
    with pytest.raises(ValueError, match="crop_margin must be an integer"):
        InpaintOptions.from_mapping({"crop_margin": "wide"})
    with pytest.raises(ValueError, match="resize_limit must be an integer between 64"):
        InpaintOptions.from_mapping({"resize_limit": 10})
    with pytest.raises(ValueError, match="unknown option"):
        InpaintOptions.from_mapping({"hd_strategy": "crop"})
