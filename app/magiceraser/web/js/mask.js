// The erase mask, kept at the photo's own pixel size in an offscreen canvas. Edits are plain data
// ("ops") so undo/redo is a replay and history costs bytes, not full-size snapshots.

/** Tint the mask is stored in; the view draws it half transparent over the photo. */
export const MASK_COLOR = "rgb(255 61 127)";

/**
 * Mask edits, all in image pixels:
 *   {kind: "stroke", erase: bool, size, points: [x0, y0, x1, y1, ...]}
 *   {kind: "lasso", points: [...]}   closed polygon, filled
 *   {kind: "clear"} | {kind: "invert"}
 */
export class Mask {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.canvas = new OffscreenCanvas(width, height);
    this.ctx = this.canvas.getContext("2d");
    this.ctx.fillStyle = this.ctx.strokeStyle = MASK_COLOR;
    this.ctx.lineCap = this.ctx.lineJoin = "round";
  }

  /** Redraw from scratch: the mask is exactly the result of these ops. */
  replay(ops) {
    this.ctx.clearRect(0, 0, this.width, this.height);
    ops.forEach((op) => this.apply(op));
  }

  apply(op) {
    const ctx = this.ctx;
    ctx.save();
    if (op.kind === "clear") {
      ctx.clearRect(0, 0, this.width, this.height);
    } else if (op.kind === "invert") {
      ctx.globalCompositeOperation = "xor";
      ctx.fillRect(0, 0, this.width, this.height);
    } else if (op.kind === "lasso") {
      if (op.points.length >= 6) {
        ctx.fill(polygonPath(op.points));
      }
    } else if (op.kind === "stroke") {
      this.strokeSegment(op, 0);
    }
    ctx.restore();
  }

  /** Draw a stroke from point index `from` on: used live while painting and on replay. */
  strokeSegment(op, from) {
    const ctx = this.ctx;
    const pts = op.points;
    ctx.save();
    ctx.globalCompositeOperation = op.erase ? "destination-out" : "source-over";
    ctx.lineWidth = op.size;
    if (pts.length === 2) {
      ctx.beginPath();
      ctx.arc(pts[0], pts[1], op.size / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      const start = Math.max(0, from - 2);
      ctx.beginPath();
      ctx.moveTo(pts[start], pts[start + 1]);
      for (let i = start + 2; i < pts.length; i += 2) ctx.lineTo(pts[i], pts[i + 1]);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Masked pixel count and bounding box ({x0, y0, x1, y1}, exclusive end), or null if empty. */
  coverage() {
    const data = this.ctx.getImageData(0, 0, this.width, this.height).data;
    let count = 0;
    let x0 = this.width, y0 = this.height, x1 = -1, y1 = -1;
    for (let y = 0, i = 3; y < this.height; y++) {
      for (let x = 0; x < this.width; x++, i += 4) {
        if (data[i] !== 0) {
          count++;
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          y1 = y;
        }
      }
    }
    return count === 0 ? null : { count, x0, y0, x1: x1 + 1, y1: y1 + 1 };
  }

  /** The mask as the server wants it: opaque PNG at image size, white = erase, black = keep.
   * Antialiased edge pixels come out grey, which the server also counts as erase. */
  async toPNG() {
    const out = new OffscreenCanvas(this.width, this.height);
    const ctx = out.getContext("2d");
    ctx.drawImage(this.canvas, 0, 0);
    ctx.globalCompositeOperation = "source-in";
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.width, this.height);
    return out.convertToBlob({ type: "image/png" });
  }
}

function polygonPath(points) {
  const path = new Path2D();
  path.moveTo(points[0], points[1]);
  for (let i = 2; i < points.length; i += 2) path.lineTo(points[i], points[i + 1]);
  path.closePath();
  return path;
}
