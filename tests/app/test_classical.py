"""The classical (no model) engine removes an object from a real photo plausibly, touching nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest
from blocked_imports import run_without
from inpaint_quality import ellipse, holed, object_holes, opencv_fill, photo, score
from PIL import Image
from skimage import data

from magiceraser.classical.engine import ClassicalEngine
from magiceraser.classical.harmonic import harmonic_fill
from magiceraser.classical.patchmatch import box_blur
from magiceraser.engine import load_engine


@pytest.mark.parametrize("name,center", [("astronaut", (640, 810)), ("coffee", (900, 600)), ("chelsea", (700, 450))])
def test_object_removed_only_under_the_mask_without_a_hole(name, center):
    rgb = np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB").resize((1920, 1080)))
    mask = ellipse(rgb.shape[:2], center, (100, 75))
    rgb = rgb.copy()
    rgb[mask] = 0  # a black object: any pixel left unfilled would stay black
    out = ClassicalEngine().inpaint(rgb, mask)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], rgb[~mask])
    filled = out[mask].astype(float)
    ring = ellipse(rgb.shape[:2], center, (108, 83)) & ~mask
    surround = rgb[ring].astype(float)
    assert np.abs(filled.mean(0) - surround.mean(0)).max() < 30  # colours carried in from the border
    assert surround.sum(axis=1).min() > 0 and filled.sum(axis=1).min() > 0  # no black hole left
    assert filled.std(0).max() <= surround.std(0).max() + 1  # smooth: no smear of outliers


def test_fill_is_harmonic_on_a_gradient():
    """A linear ramp is harmonic, so filling a hole in it must give the ramp back."""
    ramp = np.tile(np.linspace(0, 255, 200, dtype=np.float32), (120, 1))[..., None].repeat(3, axis=2)
    hole = ellipse(ramp.shape[:2], (100, 60), (30, 20))
    filled = harmonic_fill(np.where(hole[..., None], 0, ramp), hole)
    assert np.abs(filled - ramp)[hole].max() < 3


def _detail(rgb):
    """High frequencies: the image minus its 5x5 box blur."""
    return rgb.astype(np.float32) - box_blur(rgb.astype(np.float32), 2)


@pytest.mark.parametrize("name", ["brick", "gravel", "grass"])
def test_fill_carries_the_texture_of_the_surroundings(name):
    """On a textured photo the hole gets texture like its border, not a smooth blur of its colour."""
    rgb = np.asarray(Image.fromarray(getattr(data, name)()).convert("RGB"))
    centre = (256, 256)
    mask = ellipse(rgb.shape[:2], centre, (100, 75))
    holed = rgb.copy()
    holed[mask] = 0
    out = ClassicalEngine().inpaint(holed, mask)
    assert np.array_equal(out[~mask], rgb[~mask])
    ring = ellipse(rgb.shape[:2], centre, (116, 91)) & ~ellipse(rgb.shape[:2], centre, (104, 79))
    assert _detail(out)[mask].std() >= 0.5 * _detail(out)[ring].std()
    assert np.abs(out[mask].mean(0) - out[ring].mean(0)).max() < 12


@pytest.mark.parametrize("shape,hole", [
    ((512, 512), np.s_[:90, :120]),  # touches two image borders
    ((512, 512), np.s_[:, 200:260]),  # crosses the whole image
    ((512, 512), np.s_[300:301, 300:301]),  # one pixel
    ((20, 20), np.s_[1:, :]),  # all but one row of the window
    ((5, 5), np.s_[2:3, 2:3]),  # window smaller than a patch
])
def test_awkward_holes_are_filled_deterministically_inside_the_mask(shape, hole):
    rgb = np.ascontiguousarray(np.asarray(Image.fromarray(data.gravel()).convert("RGB"))[:shape[0], :shape[1]])
    mask = np.zeros(shape, bool)
    mask[hole] = True
    holed = rgb.copy()
    holed[mask] = 0
    out = ClassicalEngine().inpaint(holed, mask)
    assert np.array_equal(out, ClassicalEngine().inpaint(holed, mask))
    assert np.array_equal(out[~mask], rgb[~mask])
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    near = np.zeros_like(mask)
    near[max(rows[0] - 16, 0):rows[-1] + 17, max(cols[0] - 16, 0):cols[-1] + 17] = True
    around = rgb[near & ~mask].astype(float)
    assert np.abs(out[mask].mean() - around.mean()) < 2 * around.std() + 10  # colours from nearby
    assert out[mask].sum(axis=1).min() > 0


def test_without_a_model_the_classical_engine_says_how_to_install_lama(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGICERASER_HOME", str(tmp_path))
    monkeypatch.delenv("MAGICERASER_MODEL", raising=False)
    engine = load_engine(None)
    info = engine.info()
    assert engine.name == "classical" == info["engine"]
    assert info["model_path"] is None and "invoke fetch-model" in info["model_missing_hint"]
    assert set(info) >= {"engine", "model_path", "model_digest", "model_missing_hint", "torch_version",
                         "threads", "mkldnn", "pixels_per_second"}


def test_without_torch_a_lama_model_gets_the_classical_engine_and_a_hint(tiny_model):
    code = ("import json\nfrom magiceraser.engine import load_engine\n"
            "print(json.dumps(load_engine(sys.argv[1]).info()))\n")
    proc = run_without(("torch",), code, str(tiny_model))
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["engine"] == "classical" and info["model_path"] is None
    assert f"torch is not installed, so the LaMa model {tiny_model} cannot run" in info["model_missing_hint"]


SEEDED_PHOTOS = ("astronaut", "coffee", "chelsea", "brick", "motorcycle", "camera")


@pytest.fixture(scope="module")
def seeded_scores():
    """PSNR in the hole and texture ratio of each method on two seeded object holes per photo."""
    pytest.importorskip("cv2")
    fills = {"telea": opencv_fill("telea"), "ns": opencv_fill("ns"), "classical": ClassicalEngine().inpaint}
    scores = {method: [] for method in fills}
    for index, name in enumerate(SEEDED_PHOTOS):
        rgb = photo(name)
        for hole in object_holes(rgb.shape[:2], 2, seed=100 + index):
            for method, fill in fills.items():
                scores[method].append(score(fill, rgb, hole)[:2])
    return {method: np.array(values) for method, values in scores.items()}


def test_fill_is_as_close_to_the_truth_as_diffusion_on_real_photos(seeded_scores):
    psnr = {method: values[:, 0].mean() for method, values in seeded_scores.items()}
    assert psnr["classical"] >= max(psnr["telea"], psnr["ns"]) - 0.3, psnr


def test_fill_keeps_real_texture_on_real_photos(seeded_scores):
    """Diffusion fills score ~0.3-0.4 here; copied texture scores near the truth's ~1."""
    assert seeded_scores["classical"][:, 1].mean() >= 0.5
    assert seeded_scores["classical"][:, 1].mean() > seeded_scores["telea"][:, 1].mean() + 0.1


def _two_textures(slope: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noisy photo of two flat colours split by a straight edge through the centre: (rgb, below, distance)."""
    h, w = 240, 320
    yy, xx = np.mgrid[:h, :w]
    offset = (yy - h / 2) - slope * (xx - w / 2)
    below = offset > 0
    rgb = np.where(below[..., None], [70, 90, 40], [200, 180, 150]).astype(float)
    rgb += np.random.default_rng(1).normal(0, 8, rgb.shape)
    return np.clip(rgb, 0, 255).astype(np.uint8), below, np.abs(offset) / np.hypot(1, slope)


@pytest.mark.parametrize("slope", [0.0, 0.35, -0.8, 2.0])
def test_an_edge_crossing_the_hole_continues_straight_through_it(slope):
    rgb, below, distance = _two_textures(slope)
    hole = ellipse(rgb.shape[:2], (160, 120), (45, 35), 0.3)
    out = ClassicalEngine().inpaint(holed(rgb, hole), hole).astype(float)
    clean = np.where(below[..., None], [70, 90, 40], [200, 180, 150])
    wrong = np.abs(out - clean).mean(axis=2) > 40
    assert wrong[hole & (distance > 4)].mean() < 0.01


@pytest.mark.parametrize("slope", [0.0, -0.8])
def test_a_thin_line_crossing_the_hole_is_drawn_across_it(slope):
    """A 3 px dark line on a light background: diffusion fades it out, structure propagation keeps it."""
    _, _, distance = _two_textures(slope)
    rgb = np.where((distance < 2)[..., None], 30, 190).astype(np.uint8).repeat(3, axis=2)
    hole = ellipse(rgb.shape[:2], (160, 120), (45, 35), 0.3)
    out = ClassicalEngine().inpaint(holed(rgb, hole), hole).astype(float).mean(axis=2)
    assert out[hole & (distance < 1)].mean() < 80
    assert out[hole & (distance > 5)].min() > 150


def test_the_fill_meets_its_border_without_a_seam():
    """Across the hole's outline the photo changes no more than it does just outside it."""
    rgb = photo("grass")
    hole = ellipse(rgb.shape[:2], (300, 260), (60, 45), 0.5)
    out = ClassicalEngine().inpaint(holed(rgb, hole), hole).astype(float).mean(axis=2)
    gy, gx = np.gradient(out)
    magnitude = np.hypot(gx, gy)
    outline = ellipse(rgb.shape[:2], (300, 260), (62, 47), 0.5) & ~ellipse(rgb.shape[:2], (300, 260), (58, 43), 0.5)
    ring = ellipse(rgb.shape[:2], (300, 260), (72, 57), 0.5) & ~ellipse(rgb.shape[:2], (300, 260), (64, 49), 0.5)
    assert magnitude[outline].mean() < 1.2 * magnitude[ring].mean()


def test_a_real_photo_is_filled_the_same_way_every_time():
    rgb = photo("astronaut")
    hole = next(object_holes(rgb.shape[:2], 1, seed=7))
    first = ClassicalEngine().inpaint(holed(rgb, hole), hole)
    assert np.array_equal(first, ClassicalEngine().inpaint(holed(rgb, hole), hole))
