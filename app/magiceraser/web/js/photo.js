// Photos as the bytes the user gave or the server returned, plus a decoded bitmap for drawing.
// The bytes are kept untouched so a download is the server's file (format, EXIF, quality kept),
// never a canvas re-encode.

/** Formats the eraser accepts, detected from the file's first bytes (names and MIME types lie). */
const SIGNATURES = [
  { type: "image/jpeg", ext: "jpg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { type: "image/png", ext: "png", test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 },
  { type: "image/bmp", ext: "bmp", test: (b) => b[0] === 0x42 && b[1] === 0x4d },
  {
    type: "image/webp", ext: "webp",
    test: (b) => String.fromCharCode(...b.slice(0, 4)) === "RIFF" && String.fromCharCode(...b.slice(8, 12)) === "WEBP",
  },
];

/** Above this many pixels the full-size mask and bitmaps would take gigabytes: refuse politely
 * instead of letting the tab crash (a 40 MP photo already needs ~0.5 GB in the browser). */
export const BROWSER_MAX_PIXELS = 40_000_000;
const CANVAS_MAX_SIDE = 16384;

export class PhotoError extends Error {}

let loaded = 0;

/** Which supported format a blob is in, or null. */
async function sniffFormat(blob) {
  const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
  return SIGNATURES.find((sig) => sig.test(head)) ?? null;
}

/** The photo's pixel size without decoding the whole image (an <img> decodes lazily). */
async function naturalSize(blob) {
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = () => reject(new PhotoError("The browser cannot read this image; the file may be damaged."));
    });
    return { img, width: img.naturalWidth, height: img.naturalHeight };
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Read a blob into a photo: {blob, format, name, width, height, bitmap, serial}.
 * `name` is the original file name; results keep the original's name and format.
 */
export async function loadPhoto(blob, name) {
  const format = await sniffFormat(blob);
  if (!format) {
    throw new PhotoError(`“${name}” is not a JPG, PNG, BMP or WebP image.`);
  }
  const { img, width, height } = await naturalSize(blob);
  if (width * height > BROWSER_MAX_PIXELS || Math.max(width, height) > CANVAS_MAX_SIDE) {
    throw new PhotoError(
      `“${name}” is ${width}×${height} (${(width * height / 1e6).toFixed(0)} MP): too large to edit in the browser. ` +
      `Scale it down below ${BROWSER_MAX_PIXELS / 1e6} MP and ${CANVAS_MAX_SIDE} px per side.`);
  }
  const bitmap = await createImageBitmap(img);
  return { blob, format, name, width, height, bitmap, serial: ++loaded };
}

/** Download name: `<stem>_erased.<ext>`, keeping the user's own extension spelling when it fits. */
export function erasedName(name, format) {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name || "photo";
  const ext = dot > 0 ? name.slice(dot + 1) : "";
  const sameFormat = ext.toLowerCase() === format.ext || (format.ext === "jpg" && /^jpe$|^jpeg$/i.test(ext));
  return `${stem}_erased.${sameFormat ? ext : format.ext}`;
}

/** Save a blob under a file name through the browser's download flow. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
