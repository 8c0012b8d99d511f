// Keyboard shortcuts: one table drives both the key handling and the help dialog, so the two
// cannot disagree.

/** [action, keys shown in help, matcher, description]. `hold` actions fire on press and release. */
export const SHORTCUTS = [
  { action: "open", keys: ["Ctrl", "O"], match: (e) => mod(e) && key(e, "o"), text: "Open a photo" },
  { action: "paste", keys: ["Ctrl", "V"], match: () => false, text: "Paste a photo" },
  { action: "tool-brush", keys: ["B"], match: (e) => plain(e) && key(e, "b"), text: "Brush" },
  { action: "tool-eraser", keys: ["E"], match: (e) => plain(e) && key(e, "e"), text: "Eraser (unpaint)" },
  { action: "tool-lasso", keys: ["L"], match: (e) => plain(e) && key(e, "l"), text: "Lasso (filled on release)" },
  { action: "smaller", keys: ["["], match: (e) => !mod(e) && e.key === "[", text: "Smaller brush" },
  { action: "bigger", keys: ["]"], match: (e) => !mod(e) && e.key === "]", text: "Bigger brush" },
  { action: "clear", keys: ["Delete"], match: (e) => !mod(e) && (e.key === "Delete" || e.key === "Backspace"), text: "Clear mask" },
  { action: "invert", keys: ["I"], match: (e) => plain(e) && key(e, "i"), text: "Invert mask" },
  { action: "erase", keys: ["Enter"], match: (e) => !mod(e) && e.key === "Enter", text: "Erase the masked area" },
  { action: "undo", keys: ["Ctrl", "Z"], match: (e) => mod(e) && !e.shiftKey && key(e, "z"), text: "Undo" },
  {
    action: "redo", keys: ["Ctrl", "Shift", "Z"],
    match: (e) => mod(e) && ((e.shiftKey && key(e, "z")) || key(e, "y")), text: "Redo (also Ctrl+Y)",
  },
  { action: "compare", keys: ["C"], hold: true, match: (e) => plain(e) && key(e, "c"), text: "Hold to see the original" },
  { action: "pan", keys: ["Space"], hold: true, match: (e) => !mod(e) && e.code === "Space", text: "Hold and drag to move the photo" },
  { action: "fit", keys: ["0"], match: (e) => !mod(e) && (e.key === "0" || e.key === "f"), text: "Fit the photo to the window (also F)" },
  { action: "zoom-in", keys: ["+"], match: (e) => !mod(e) && (e.key === "+" || e.key === "="), text: "Zoom in (or the wheel)" },
  { action: "zoom-out", keys: ["−"], match: (e) => !mod(e) && e.key === "-", text: "Zoom out" },
  { action: "download", keys: ["Ctrl", "S"], match: (e) => mod(e) && key(e, "s"), text: "Download the result" },
  { action: "help", keys: ["?"], match: (e) => e.key === "?", text: "This list" },
];

function mod(e) {
  return e.ctrlKey || e.metaKey;
}

function plain(e) {
  return !mod(e) && !e.altKey && !e.shiftKey;
}

function key(e, letter) {
  return e.key.toLowerCase() === letter;
}

/** The shortcut a key event means, or undefined. */
export function shortcutFor(event) {
  return SHORTCUTS.find((s) => s.match(event));
}

/** "Ctrl+Shift+Z" style label for tooltips. */
export function keyLabel(action) {
  const found = SHORTCUTS.find((s) => s.action === action);
  return found ? found.keys.join("+") : "";
}

/** Fill the help dialog's list. */
export function renderHelp(list) {
  list.replaceChildren(...SHORTCUTS.map((s) => {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = s.text;
    const keys = document.createElement("span");
    keys.className = "keys";
    s.keys.forEach((k, i) => {
      if (i) keys.append(" + ");
      const kbd = document.createElement("kbd");
      kbd.textContent = k;
      keys.append(kbd);
    });
    item.append(text, keys);
    return item;
  }));
}
