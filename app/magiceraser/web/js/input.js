// Pointer gestures on the view: one pointer paints (mouse, pen or finger), a stylus's eraser end
// unpaints whatever tool is selected, as in drawing apps; the middle button or
// Space+drag pans, two fingers pinch-zoom and pan, the wheel zooms at the cursor. The pointer that
// started a gesture owns it: another one landing meanwhile (a palm resting under a stylus) is ignored.

/**
 * @param canvas  the view canvas
 * @param h  {canDraw(), panKeyHeld(), begin(sx, sy, eraserEnd), move(sx, sy), end(), cancel(),
 *            pan(dx, dy), zoom(factor, sx, sy), hover(pos | null), panning(state)}
 */
export function attachPointer(canvas, h) {
  const pointers = new Map();
  let mode = "none";        // none | draw | pan | pinch | ignore
  let owner = null;         // {id, type} of the pointer that started the gesture
  let pinch = null;

  const local = (e) => {
    const r = canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  // Pointer Events report a stylus's eraser end as button 5 on press and bit 32 in `buttons`.
  const isEraserEnd = (e) => e.pointerType === "pen" && (e.button === 5 || (e.buttons & 32) !== 0);

  const pinchState = () => {
    const [a, b] = [...pointers.values()];
    return { dist: Math.hypot(a[0] - b[0], a[1] - b[1]), cx: (a[0] + b[0]) / 2, cy: (a[1] + b[1]) / 2 };
  };

  canvas.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    pointers.set(e.pointerId, local(e));
    if (pointers.size === 2 && e.pointerType === "touch" && owner?.type === "touch") {
      if (mode === "draw") h.cancel();
      mode = "pinch";
      pinch = pinchState();
      return;
    }
    if (pointers.size > 1) return;
    owner = { id: e.pointerId, type: e.pointerType };
    if (e.button === 1 || h.panKeyHeld()) {
      mode = "pan";
      h.panning("dragging");
    } else if ((e.button === 0 || isEraserEnd(e)) && h.canDraw()) {
      mode = "draw";
      h.begin(...local(e), isEraserEnd(e));
    } else {
      mode = "ignore";
    }
  });

  canvas.addEventListener("pointermove", (e) => {
    const pos = local(e);
    h.hover(e.pointerType === "touch" ? null : pos);
    const prev = pointers.get(e.pointerId);
    if (!prev) return;
    pointers.set(e.pointerId, pos);
    const owns = e.pointerId === owner?.id;
    if (mode === "draw" && owns) {
      const events = e.getCoalescedEvents?.() ?? [];
      (events.length ? events : [e]).forEach((ev) => h.move(...local(ev)));
    } else if (mode === "pan" && owns) {
      h.pan(pos[0] - prev[0], pos[1] - prev[1]);
    } else if (mode === "pinch" && pointers.size === 2) {
      const next = pinchState();
      h.pan(next.cx - pinch.cx, next.cy - pinch.cy);
      if (pinch.dist > 0) h.zoom(next.dist / pinch.dist, next.cx, next.cy);
      pinch = next;
    }
  });

  const finish = (e) => {
    if (!pointers.delete(e.pointerId)) return;
    if (mode === "pinch" || e.pointerId === owner?.id) {
      if (mode === "draw") {
        if (e.type === "pointerup") h.end(); else h.cancel();
      }
      if (mode === "pan") h.panning(h.panKeyHeld() ? "true" : "false");
      // After a pinch, or under a resting palm, the pointers left do nothing until they lift.
      mode = "ignore";
    }
    if (pointers.size === 0) {
      mode = "none";
      owner = null;
    }
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("pointerleave", (e) => { if (!pointers.has(e.pointerId)) h.hover(null); });
  // Keep the middle button from starting the browser's autoscroll.
  canvas.addEventListener("mousedown", (e) => { if (e.button === 1) e.preventDefault(); });

  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const lines = e.deltaMode === 1 ? 33 : 1;
    // Trackpad pinch arrives as ctrl+wheel with small deltas: make it as responsive as a wheel.
    const rate = e.ctrlKey ? 0.01 : 0.0015;
    h.zoom(Math.exp(-e.deltaY * lines * rate), ...local(e));
  }, { passive: false });
}
