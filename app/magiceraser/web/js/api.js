// The eraser's HTTP API. Every failure becomes an ApiError whose message is a sentence for the
// user, so the page can show it as is.

export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

/** What the server's error JSON says, or null if the body is not that JSON. */
async function serverMessage(response) {
  try {
    const body = await response.json();
    return typeof body.error === "string" ? body.error : null;
  } catch {
    return null;
  }
}

async function failure(response) {
  const said = await serverMessage(response);
  const detail = said ? ` (${said})` : "";
  switch (response.status) {
    case 413:
      return new ApiError(`This photo is too large for the eraser${detail}. Scale it down and try again.`, 413);
    case 415:
      return new ApiError(`The eraser cannot read this image format${detail}. Use JPG, PNG, BMP or WebP.`, 415);
    case 503: {
      const wait = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
      const when = Number.isFinite(wait) ? `in about ${wait} s` : "in a moment";
      return new ApiError(`The eraser is busy with another photo${detail}. Try again ${when}.`, 503);
    }
    case 400:
      return new ApiError(`The eraser refused the request${detail}.`, 400);
    default:
      return new ApiError(`The eraser failed (HTTP ${response.status})${detail}.`, response.status);
  }
}

/** Send photo bytes and mask PNG; resolves to {blob, seconds} with the server's own result bytes. */
export async function inpaint(photo, maskPng, signal) {
  const form = new FormData();
  form.append("image", photo.blob, `image.${photo.format.ext}`);
  form.append("mask", maskPng, "mask.png");
  let response;
  try {
    response = await fetch("api/v1/inpaint", { method: "POST", body: form, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("Cannot reach the eraser. Is `magiceraser serve` still running?");
  }
  if (!response.ok) throw await failure(response);
  const seconds = Number.parseFloat(response.headers.get("X-Inference-Seconds") ?? "");
  return { blob: await response.blob(), seconds: Number.isFinite(seconds) ? seconds : null };
}

/** The server's health JSON, or null when it cannot be read (the page still works). */
export async function health() {
  try {
    const response = await fetch("api/v1/health", { cache: "no-store" });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}
