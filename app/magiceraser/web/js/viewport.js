// Where the photo sits on screen: one scale and offset (CSS pixels) map image pixels to the view.
// Photo and mask are both drawn through this one transform, so they stay aligned at every zoom.

const MAX_SCALE = 32;
const FIT_MARGIN = 24;

export class Viewport {
  constructor() {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.width = 0;   // view size, CSS px
    this.height = 0;
    this.imageWidth = 0;
    this.imageHeight = 0;
    this.fitted = true;   // follow window resizes until the user zooms or pans
  }

  setImage(width, height) {
    this.imageWidth = width;
    this.imageHeight = height;
    this.fit();
  }

  resize(width, height) {
    this.width = width;
    this.height = height;
    if (this.fitted) this.fit();
  }

  fitScale() {
    if (!this.imageWidth) return 1;
    const w = Math.max(1, this.width - 2 * FIT_MARGIN);
    const h = Math.max(1, this.height - 2 * FIT_MARGIN);
    return Math.min(w / this.imageWidth, h / this.imageHeight, 1);
  }

  /** Show the whole photo, centred, never enlarged past 100 %. */
  fit() {
    this.scale = this.fitScale();
    this.x = (this.width - this.imageWidth * this.scale) / 2;
    this.y = (this.height - this.imageHeight * this.scale) / 2;
    this.fitted = true;
  }

  /** Zoom by `factor`, keeping the image point under (sx, sy) where it is. */
  zoomAt(factor, sx, sy) {
    const min = this.fitScale() / 4;
    const scale = Math.min(MAX_SCALE, Math.max(min, this.scale * factor));
    const [ix, iy] = this.toImage(sx, sy);
    this.scale = scale;
    this.x = sx - ix * scale;
    this.y = sy - iy * scale;
    this.fitted = false;
  }

  panBy(dx, dy) {
    this.x += dx;
    this.y += dy;
    this.fitted = false;
  }

  toImage(sx, sy) {
    return [(sx - this.x) / this.scale, (sy - this.y) / this.scale];
  }

  toScreen(ix, iy) {
    return [this.x + ix * this.scale, this.y + iy * this.scale];
  }
}
