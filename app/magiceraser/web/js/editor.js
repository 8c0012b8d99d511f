// The editor's state and behaviour: photo, mask, history, view and the erase request.

import { ApiError, inpaint } from "./api.js";
import { History } from "./history.js";
import { MASK_COLOR, Mask } from "./mask.js";
import { PhotoError, erasedName, loadPhoto, saveBlob } from "./photo.js";
import { Renderer } from "./renderer.js";
import { Progress, formatSeconds, toast } from "./ui.js";
import { Viewport } from "./viewport.js";

const $ = (selector) => document.querySelector(selector);
// The server's default HD strategy (see workPixels): whole photo up to CROP_TRIGGER px on the long
// side, else a window around the mask with CONTEXT_MARGIN px of context, at most RESIZE_LIMIT px long.
const CROP_TRIGGER = 800;
const CONTEXT_MARGIN = 128;
const RESIZE_LIMIT = 1024;
const REQUEST_OVERHEAD_S = 0.3;

export class Editor {
  constructor() {
    this.view = $("#view");
    this.viewport = new Viewport();
    this.renderer = new Renderer({ photo: $("#photo-layer"), mask: $("#mask-layer"), pointer: this.view },
      this.viewport, (ctx) => this.drawPointer(ctx));
    this.progress = new Progress();
    this.history = null;
    this.mask = null;
    this.photo = null;        // the photo on screen (the current state's)
    this.tool = "brush";
    this.brushSize = 40;
    this.live = null;         // op being drawn right now
    this.hoverPos = null;
    this.held = new Set();    // hold-actions active: compare, pan
    this.request = null;      // AbortController of the running erase
    this.pixelsPerSecond = null;
    this.lastMask = null;     // mask PNG of the last request (exposed for tests)
    this.savedPhoto = null;   // the result last downloaded (to warn before losing a newer one)
  }

  // ---------------------------------------------------------------- photo

  async open(blob, name) {
    if (this.request) {
      toast("Wait for the running erase to finish (or cancel it) before opening another photo.");
      return;
    }
    if (this.hasUnsavedResult()
        && !window.confirm(`Open ${name}? The erased ${this.history.original.name} has not been downloaded.`)) {
      return;
    }
    let photo;
    try {
      setMessage(`Opening ${name}…`);
      photo = await loadPhoto(blob, name);
    } catch (err) {
      toast(err instanceof PhotoError ? err.message : `Cannot open “${name}”: ${err.message}`, { error: true });
      setMessage("");
      return;
    }
    this.releaseBitmaps(new Set());
    this.history = new History({ photo, ops: [] });
    this.photo = photo;
    this.mask = new Mask(photo.width, photo.height);
    this.viewport.setImage(photo.width, photo.height);
    this.showScene();
    this.setupBrushRange(photo);
    document.body.dataset.hasPhoto = "true";
    $("#status-file").textContent = name;
    $("#status-file").title = name;
    $("#status-size").textContent = `${photo.width} × ${photo.height} px`;
    setMessage("Paint over what you want to erase, then press Erase.");
    this.refresh();
  }

  /** Brush sizes are image pixels, so the range follows the photo's size. */
  setupBrushRange(photo) {
    const side = Math.max(photo.width, photo.height);
    const slider = $("#brush-size");
    slider.max = String(Math.min(1000, Math.max(60, Math.round(side / 4))));
    this.setBrushSize(Math.round(Math.min(Number(slider.max), Math.max(8, side / 25))));
  }

  setBrushSize(size) {
    const slider = $("#brush-size");
    this.brushSize = Math.max(Number(slider.min), Math.min(Number(slider.max), Math.round(size)));
    slider.value = String(this.brushSize);
    $("#brush-size-value").textContent = `${this.brushSize} px`;
    this.renderer.invalidate(["pointer"]);
  }

  stepBrush(bigger) {
    const step = Math.max(1, Math.round(this.brushSize * 0.15));
    this.setBrushSize(this.brushSize + (bigger ? step : -step));
  }

  /** Decoded bitmaps cost 4 bytes a pixel: keep only the ones on screen and the original. */
  releaseBitmaps(keep) {
    if (!this.history) return;
    for (const state of this.history.states) {
      const photo = state.photo;
      if (photo.bitmap && !keep.has(photo)) {
        photo.bitmap.close();
        photo.bitmap = null;
      }
    }
  }

  /** Hand the renderer what is on screen: the original while comparing, else the current photo. */
  showScene() {
    const shown = this.held.has("compare") ? this.history.original : this.photo;
    this.renderer.setScene(shown.bitmap, this.mask);
  }

  async show(state) {
    if (state.photo !== this.photo) {
      if (!state.photo.bitmap) state.photo.bitmap = await createImageBitmap(state.photo.blob);
      // Undo/redo may have moved on while this photo decoded: only the latest state is shown.
      if (state !== this.history?.current) return;
      this.photo = state.photo;
      this.releaseBitmaps(new Set([this.photo, this.history.original]));
    }
    this.mask.replay(state.ops);
    this.showScene();
    this.refresh();
  }

  // ---------------------------------------------------------------- mask editing

  canDraw() {
    return Boolean(this.photo) && !this.request && !this.held.has("pan");
  }

  /** Start a stroke with the selected tool, or with the eraser for a stylus's eraser end. */
  begin(sx, sy, eraserEnd = false) {
    const [x, y] = this.viewport.toImage(sx, sy);
    const tool = eraserEnd ? "eraser" : this.tool;
    if (tool === "lasso") {
      this.live = { kind: "lasso", points: [x, y] };
    } else {
      this.live = { kind: "stroke", erase: tool === "eraser", size: this.brushSize, points: [x, y] };
      this.mask.strokeSegment(this.live, 0);
      this.invalidateStroke(this.live, 0);
    }
    this.renderer.invalidate(["pointer"]);
  }

  /** Repaint just the rectangle the stroke's newest segment (from point index `from`) covers. */
  invalidateStroke(op, from) {
    const pts = op.points;
    const start = Math.max(0, from - 2);
    const xs = [pts[start], pts[pts.length - 2]];
    const ys = [pts[start + 1], pts[pts.length - 1]];
    const r = op.size / 2 + 2;
    this.renderer.invalidateMaskRect(Math.min(...xs) - r, Math.min(...ys) - r, Math.max(...xs) + r, Math.max(...ys) + r);
  }

  move(sx, sy) {
    const op = this.live;
    if (!op) return;
    const [x, y] = this.viewport.toImage(sx, sy);
    const n = op.points.length;
    // Skip points closer than half a screen pixel: they add nothing but replay time.
    if (Math.hypot(x - op.points[n - 2], y - op.points[n - 1]) * this.viewport.scale < 0.5) return;
    op.points.push(x, y);
    if (op.kind === "stroke") {
      this.mask.strokeSegment(op, op.points.length - 2);
      this.invalidateStroke(op, op.points.length - 2);
    } else {
      this.renderer.invalidate(["pointer"]);
    }
  }

  end() {
    const op = this.live;
    this.live = null;
    if (!op) return;
    if (op.kind === "lasso") {
      this.renderer.invalidate(["mask", "pointer"]);
      if (op.points.length < 6) return;
      this.mask.apply(op);
    }
    this.history.pushOp(op);
    this.refresh();
  }

  cancel() {
    this.live = null;
    if (this.mask) this.mask.replay(this.history.current.ops);
    this.renderer.invalidate(["mask", "pointer"]);
  }

  maskOp(kind) {
    if (!this.photo || this.request) return;
    if (kind === "clear" && this.history.current.ops.length === 0) return;
    const op = { kind };
    this.mask.apply(op);
    this.history.pushOp(op);
    this.renderer.invalidate(["mask"]);
    this.refresh();
  }

  async step(direction) {
    if (!this.history || this.request) return;
    const can = direction === "undo" ? this.history.canUndo() : this.history.canRedo();
    if (!can) return;
    this.live = null;
    await this.show(direction === "undo" ? this.history.undo() : this.history.redo());
    setMessage(direction === "undo" ? "Undone." : "Redone.");
  }

  // ---------------------------------------------------------------- erase

  /**
   * Seconds the server should need: it works on the box around the mask plus context, at the
   * speed it measured (health), refined by what the last requests took here.
   */
  estimate(area) {
    if (!this.pixelsPerSecond) return null;
    return REQUEST_OVERHEAD_S + workPixels(area, this.mask) / this.pixelsPerSecond;
  }

  learnSpeed(area, seconds) {
    if (!seconds || seconds <= 0) return;
    const measured = workPixels(area, this.mask) / seconds;
    this.pixelsPerSecond = this.pixelsPerSecond ? 0.5 * this.pixelsPerSecond + 0.5 * measured : measured;
  }

  async erase() {
    if (!this.photo || this.request) return;
    if (this.live) this.end();
    const area = this.mask.coverage();
    if (!area) {
      toast("Nothing to erase yet: paint over the area first (brush or lasso).");
      return;
    }
    const state = this.history.current;
    const controller = new AbortController();
    this.request = controller;
    this.refresh();
    this.progress.start(this.estimate(area));
    const started = performance.now();
    try {
      const png = await this.mask.toPNG();
      this.lastMask = png;
      const { blob, seconds } = await inpaint(state.photo, png, controller.signal);
      const photo = await loadPhoto(blob, this.history.original.name);
      this.learnSpeed(area, seconds);
      this.history.push({ photo, ops: [] });
      await this.show(this.history.current);
      const took = formatSeconds((performance.now() - started) / 1000);
      setMessage(`Erased in ${took}. Keep painting to erase more, or download the result (Ctrl+S).`);
    } catch (err) {
      if (err.name === "AbortError") {
        setMessage("Erase cancelled; the mask is still there.");
      } else {
        const known = err instanceof ApiError || err instanceof PhotoError;
        toast(known ? err.message : `Erasing failed: ${err.message}`, { error: true });
        setMessage("Erase failed; the photo and mask are unchanged.");
      }
    } finally {
      this.progress.stop();
      this.request = null;
      this.refresh();
    }
  }

  hasUnsavedResult() {
    return Boolean(this.history) && this.history.current.photo !== this.history.original
      && this.history.current.photo !== this.savedPhoto;
  }

  cancelErase() {
    this.request?.abort();
  }

  download() {
    if (!this.history) return;
    const photo = this.history.current.photo;
    if (photo === this.history.original) {
      toast("Nothing erased yet: paint over something and press Erase, then download.");
      return;
    }
    const name = erasedName(this.history.original.name, photo.format);
    saveBlob(photo.blob, name);
    this.savedPhoto = photo;
    setMessage(`Saved ${name} (${photo.width} × ${photo.height}).`);
  }

  // ---------------------------------------------------------------- view

  setTool(tool) {
    this.tool = tool;
    document.querySelectorAll("[data-tool]").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.tool === tool));
    });
    this.renderer.invalidate(["pointer"]);
  }

  hold(action, on) {
    if (on === this.held.has(action)) return;
    if (on) this.held.add(action); else this.held.delete(action);
    if (action === "pan") document.body.dataset.panning = String(on);
    if (action === "compare") {
      $('[data-action="compare"]').setAttribute("aria-pressed", String(on));
      document.body.dataset.comparing = String(on);
      $("#compare-badge").hidden = !(on && this.photo);
      if (this.photo) this.showScene();
    }
    this.renderer.invalidate(["pointer"]);
  }

  zoom(factor, sx = this.viewport.width / 2, sy = this.viewport.height / 2) {
    if (!this.photo) return;
    this.viewport.zoomAt(factor, sx, sy);
    this.render();
    this.refresh();
  }

  fit() {
    this.viewport.fit();
    this.render();
    this.refresh();
  }

  resize() {
    const rect = this.view.getBoundingClientRect();
    this.viewport.resize(rect.width, rect.height);
    this.renderer.resize(rect.width, rect.height, window.devicePixelRatio || 1);
    this.refresh();
  }

  /** Update buttons and status, then redraw. */
  refresh() {
    const has = Boolean(this.photo);
    const busy = Boolean(this.request);
    const h = this.history;
    const enable = (action, on) => document.querySelectorAll(`[data-action="${action}"]`)
      .forEach((b) => { b.disabled = !on; });
    enable("open", !busy);
    ["clear", "invert", "compare", "fit"].forEach((a) => enable(a, has && !busy));
    enable("undo", has && !busy && h.canUndo());
    enable("redo", has && !busy && h.canRedo());
    enable("erase", has && !busy && h.current.ops.length > 0);
    enable("download", has && h.current.photo !== h.original);
    document.body.dataset.busy = String(busy);
    $("#status-zoom").textContent = has ? `${Math.round(this.viewport.scale * 100)} %` : "";
    this.renderer.invalidate(["pointer"]);
  }

  /** Redraw after the view moved (zoom, pan, fit): every layer. */
  render() {
    this.renderer.invalidate();
  }

  drawPointer(ctx) {
    if (this.live?.kind === "lasso") this.drawLasso(ctx, this.live.points);
    if (this.hoverPos && this.photo && this.tool !== "lasso" && !this.held.has("pan") && !this.request) {
      this.drawCursor(ctx);
    }
  }

  drawLasso(ctx, points) {
    ctx.beginPath();
    for (let i = 0; i < points.length; i += 2) ctx.lineTo(...this.viewport.toScreen(points[i], points[i + 1]));
    ctx.closePath();
    ctx.fillStyle = MASK_COLOR;
    ctx.globalAlpha = 0.25;
    ctx.fill();
    ctx.globalAlpha = 1;
    outline(ctx, []);
  }

  drawCursor(ctx) {
    const [x, y] = this.hoverPos;
    ctx.beginPath();
    ctx.arc(x, y, Math.max(1.5, (this.brushSize / 2) * this.viewport.scale), 0, Math.PI * 2);
    const erasing = this.live ? this.live.erase : this.tool === "eraser";
    outline(ctx, erasing ? [4, 3] : []);
  }
}

/** A line visible on any photo: dark under light. */
function outline(ctx, dash) {
  ctx.setLineDash(dash);
  ctx.lineWidth = 3;
  ctx.strokeStyle = "rgb(0 0 0 / .6)";
  ctx.stroke();
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "#fff";
  ctx.stroke();
  ctx.setLineDash([]);
}

/** Pixels the model runs on for this mask under the server's default strategy. */
function workPixels(area, mask) {
  let w = mask.width;
  let h = mask.height;
  if (Math.max(w, h) > CROP_TRIGGER) {
    w = Math.min(w, area.x1 - area.x0 + 2 * CONTEXT_MARGIN);
    h = Math.min(h, area.y1 - area.y0 + 2 * CONTEXT_MARGIN);
  }
  const shrink = Math.min(1, RESIZE_LIMIT / Math.max(w, h));
  return w * h * shrink * shrink;
}

function setMessage(text) {
  $("#status-message").textContent = text;
}
