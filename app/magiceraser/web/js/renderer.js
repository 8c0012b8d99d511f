// Draws the editor in three stacked canvases so each change repaints only what it touched:
// the photo (on zoom/pan/photo change), the mask (a brush segment repaints just its own
// rectangle), and the pointer layer (brush cursor, lasso path). On a slow CPU with a 20 MP photo
// a brush stroke then costs a few small blits instead of re-scaling the whole photo each move.

const SHADOW = "rgb(0 0 0 / .5)";

export class Renderer {
  /**
   * @param layers {photo, mask, pointer}: canvases of equal size, stacked in that order
   * @param viewport  the Viewport mapping image pixels to CSS pixels
   * @param drawPointer (ctx) => void: draws cursor/lasso in CSS pixels
   */
  constructor(layers, viewport, drawPointer) {
    this.layers = layers;
    this.ctx = {
      photo: layers.photo.getContext("2d"),
      mask: layers.mask.getContext("2d"),
      pointer: layers.pointer.getContext("2d"),
    };
    this.viewport = viewport;
    this.drawPointer = drawPointer;
    this.scene = { bitmap: null, mask: null };
    this.dpr = 1;
    this.dirty = { photo: false, mask: false, pointer: false };
    this.maskRect = null;
    this.frame = 0;
  }

  setScene(bitmap, mask) {
    this.scene = { bitmap, mask };
    this.invalidate();
  }

  resize(width, height, dpr) {
    this.dpr = dpr;
    for (const canvas of Object.values(this.layers)) {
      canvas.width = Math.max(1, Math.round(width * dpr));
      canvas.height = Math.max(1, Math.round(height * dpr));
    }
    this.invalidate();
  }

  /** Repaint the given layers (all by default) on the next frame. */
  invalidate(which = ["photo", "mask", "pointer"]) {
    which.forEach((layer) => { this.dirty[layer] = true; });
    this.schedule();
  }

  /** Repaint only this part of the mask (image pixels): what one brush segment changed. */
  invalidateMaskRect(x0, y0, x1, y1) {
    const r = this.maskRect;
    this.maskRect = r
      ? [Math.min(r[0], x0), Math.min(r[1], y0), Math.max(r[2], x1), Math.max(r[3], y1)]
      : [x0, y0, x1, y1];
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.paint());
  }

  paint() {
    this.frame = 0;
    if (this.dirty.photo) this.paintPhoto();
    if (this.dirty.mask) {
      this.paintMask(null);
    } else if (this.maskRect) {
      this.paintMask(this.maskRect);
    }
    if (this.dirty.pointer) this.paintPointer();
    this.dirty = { photo: false, mask: false, pointer: false };
    this.maskRect = null;
  }

  /** Context with the image-to-device transform applied. */
  imageSpace(ctx) {
    const { scale, x, y } = this.viewport;
    const d = this.dpr;
    ctx.setTransform(d * scale, 0, 0, d * scale, d * x, d * y);
  }

  paintPhoto() {
    const ctx = this.ctx.photo;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    const bitmap = this.scene.bitmap;
    if (!bitmap) return;
    this.imageSpace(ctx);
    ctx.shadowColor = SHADOW;
    ctx.shadowBlur = 18 * this.dpr;
    ctx.fillRect(0, 0, bitmap.width, bitmap.height);
    ctx.shadowColor = "transparent";
    ctx.imageSmoothingEnabled = this.viewport.scale < 2;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0);
  }

  /** The mask scaled onto the screen, whole or only inside `rect` (image pixels). */
  paintMask(rect) {
    const ctx = this.ctx.mask;
    const mask = this.scene.mask;
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (rect) {
      const [ax, ay] = this.viewport.toScreen(rect[0], rect[1]);
      const [bx, by] = this.viewport.toScreen(rect[2], rect[3]);
      const d = this.dpr;
      const left = Math.floor(ax * d) - 2, top = Math.floor(ay * d) - 2;
      const path = new Path2D();
      path.rect(left, top, Math.ceil(bx * d) + 2 - left, Math.ceil(by * d) + 2 - top);
      ctx.clip(path);
    }
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    if (mask) {
      this.imageSpace(ctx);
      ctx.imageSmoothingEnabled = this.viewport.scale < 2;
      // Bilinear, no mipmaps: rebuilding those for a full-size mask on every stroke is what
      // would make painting stutter.
      ctx.imageSmoothingQuality = "low";
      ctx.drawImage(mask.canvas, 0, 0);
    }
    ctx.restore();
  }

  paintPointer() {
    const ctx = this.ctx.pointer;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    this.drawPointer(ctx);
  }
}
