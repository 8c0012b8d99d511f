// Page start-up: connects buttons, keys, pointer, drop/paste and the server to the editor.

import { health } from "./api.js";
import { Editor } from "./editor.js";
import { attachPointer } from "./input.js";
import { keyLabel, renderHelp, shortcutFor } from "./shortcuts.js";
import { showEngineBanner } from "./ui.js";

const $ = (selector) => document.querySelector(selector);
const ZOOM_STEP = 1.25;

const editor = new Editor();

function perform(action) {
  const actions = {
    open: () => $("#file-input").click(),
    "tool-brush": () => editor.setTool("brush"),
    "tool-eraser": () => editor.setTool("eraser"),
    "tool-lasso": () => editor.setTool("lasso"),
    smaller: () => editor.stepBrush(false),
    bigger: () => editor.stepBrush(true),
    clear: () => editor.maskOp("clear"),
    invert: () => editor.maskOp("invert"),
    erase: () => editor.erase(),
    cancel: () => editor.cancelErase(),
    undo: () => editor.step("undo"),
    redo: () => editor.step("redo"),
    fit: () => editor.fit(),
    "zoom-in": () => editor.zoom(ZOOM_STEP),
    "zoom-out": () => editor.zoom(1 / ZOOM_STEP),
    download: () => editor.download(),
    help: () => $("#help").showModal(),
  };
  actions[action]?.();
}

function wireButtons() {
  document.querySelectorAll("[data-action]").forEach((button) => {
    const action = button.dataset.action;
    const keys = keyLabel(action);
    const name = button.getAttribute("aria-label") || button.textContent.trim();
    if (keys) button.title = `${name} (${keys})`;
    if (action === "compare") {
      const release = () => editor.hold("compare", false);
      const isPress = (e) => e.key === " " || e.key === "Enter";
      button.addEventListener("pointerdown", () => editor.hold("compare", true));
      ["pointerup", "pointerleave", "pointercancel", "blur"].forEach((t) => button.addEventListener(t, release));
      button.addEventListener("keydown", (e) => { if (isPress(e)) editor.hold("compare", true); });
      button.addEventListener("keyup", (e) => { if (isPress(e)) release(); });
    } else {
      button.addEventListener("click", () => perform(action));
    }
  });
  // A mouse click must not leave focus on a toolbar button, or Space/Enter would press it again.
  document.querySelectorAll(".toolbar button").forEach((button) => {
    button.addEventListener("mousedown", (e) => e.preventDefault());
  });
  document.querySelectorAll("[data-tool]").forEach((button) => {
    const keys = keyLabel(`tool-${button.dataset.tool}`);
    button.title = `${button.getAttribute("aria-label")} (${keys})`;
    button.addEventListener("click", () => editor.setTool(button.dataset.tool));
  });
  $("#brush-size").addEventListener("input", (e) => editor.setBrushSize(Number(e.target.value)));
  $("#file-input").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) editor.open(file, file.name);
    e.target.value = "";
  });
}

function wireKeys() {
  window.addEventListener("keydown", (e) => {
    if ($("#help").open) return;
    const onControl = e.target.closest?.("button, input, a, select, textarea");
    if (onControl && (e.key === "Enter" || e.key === " ")) return;
    if (e.key === "Escape" && editor.live) {
      editor.cancel();
      return;
    }
    const shortcut = shortcutFor(e);
    if (!shortcut || shortcut.action === "paste") return;
    e.preventDefault();
    if (shortcut.hold) {
      if (!e.repeat) editor.hold(shortcut.action, true);
    } else if (!e.repeat || ["smaller", "bigger", "zoom-in", "zoom-out"].includes(shortcut.action)) {
      perform(shortcut.action);
    }
  });
  window.addEventListener("keyup", (e) => {
    // Matched loosely: releasing Space or C with a modifier down still ends the hold.
    if (e.code === "Space") editor.hold("pan", false);
    if (e.key.toLowerCase() === "c") editor.hold("compare", false);
  });
  window.addEventListener("blur", () => ["pan", "compare"].forEach((a) => editor.hold(a, false)));
}

function wireDropAndPaste() {
  const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
  let depth = 0;
  window.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth++;
    document.body.dataset.dragging = "true";
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) document.body.dataset.dragging = "false";
  });
  window.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    document.body.dataset.dragging = "false";
    const file = e.dataTransfer?.files[0];
    if (file) editor.open(file, file.name);
  });
  window.addEventListener("paste", (e) => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
    if (!file) return;
    e.preventDefault();
    editor.open(file, file.name && file.name !== "image.png" ? file.name : "pasted.png");
  });
}

function wireView() {
  attachPointer(editor.view, {
    canDraw: () => editor.canDraw(),
    panKeyHeld: () => editor.held.has("pan"),
    begin: (x, y, eraserEnd) => editor.begin(x, y, eraserEnd),
    move: (x, y) => editor.move(x, y),
    end: () => editor.end(),
    cancel: () => editor.cancel(),
    pan: (dx, dy) => { editor.viewport.panBy(dx, dy); editor.render(); },
    zoom: (factor, x, y) => editor.zoom(factor, x, y),
    hover: (pos) => { editor.hoverPos = pos; editor.renderer.invalidate(["pointer"]); },
    panning: (state) => { document.body.dataset.panning = state; },
  });
  new ResizeObserver(() => editor.resize()).observe($("#stage"));
  window.addEventListener("beforeunload", (e) => {
    if (editor.hasUnsavedResult()) e.preventDefault();
  });
}

async function loadHealth() {
  const status = await health();
  showEngineBanner(status);
  if (status?.pixels_per_second > 0 && !editor.pixelsPerSecond) editor.pixelsPerSecond = status.pixels_per_second;
}

renderHelp($("#help-list"));
wireButtons();
wireKeys();
wireDropAndPaste();
wireView();
editor.refresh();
const ready = loadHealth();

/** Hook for automated tests and debugging from the console. */
window.magiceraser = {
  ready,
  debug: {
    get lastMask() { return editor.lastMask; },
    state: () => ({
      width: editor.photo?.width ?? 0,
      height: editor.photo?.height ?? 0,
      busy: Boolean(editor.request),
      photoSerial: editor.photo?.serial ?? 0,
      ops: editor.history?.current.ops.length ?? 0,
      canUndo: editor.history?.canUndo() ?? false,
      canRedo: editor.history?.canRedo() ?? false,
      edited: Boolean(editor.history) && editor.photo !== editor.history.original,
      scale: editor.viewport.scale,
      brushSize: editor.brushSize,
      pixelsPerSecond: editor.pixelsPerSecond,
    }),
    /** Page coordinates of an image pixel, for driving the mouse precisely. */
    imageToPage(x, y) {
      const rect = editor.view.getBoundingClientRect();
      const [sx, sy] = editor.viewport.toScreen(x, y);
      return [rect.left + sx, rect.top + sy];
    },
    maskCoverage: () => editor.mask?.coverage() ?? null,
    /** Base64 of "mask" (last sent), "photo" (current) or "original" bytes. */
    async bytes(what) {
      const blob = { mask: editor.lastMask, photo: editor.photo?.blob, original: editor.history?.original.blob }[what];
      if (!blob) return null;
      const url = await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.readAsDataURL(blob);
      });
      return url.slice(url.indexOf(",") + 1);
    },
  },
};
