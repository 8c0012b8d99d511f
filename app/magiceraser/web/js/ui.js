// Messages in the page: toasts for errors and notices, the engine banner, the erase progress.

const TOAST_SECONDS = 8;

/** Show a message over the stage. Errors stay until dismissed; notices fade on their own. */
export function toast(message, { error = false } = {}) {
  const box = document.getElementById("toasts");
  const item = document.createElement("div");
  item.className = error ? "toast error" : "toast";
  item.setAttribute("role", error ? "alert" : "status");
  const text = document.createElement("p");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn small";
  close.textContent = "Dismiss";
  close.addEventListener("click", () => item.remove());
  item.append(text, close);
  box.append(item);
  while (box.children.length > 3) box.firstElementChild.remove();
  if (!error) setTimeout(() => item.remove(), TOAST_SECONDS * 1000);
}

/** Say when the eraser runs without its LaMa model, and how to install it. */
export function showEngineBanner(health) {
  const banner = document.getElementById("engine-banner");
  const engine = document.getElementById("status-engine");
  if (!health) {
    engine.textContent = "Server status unknown";
    return;
  }
  const speed = health.pixels_per_second ? ` · ${(health.pixels_per_second / 1e3).toFixed(0)} kpx/s` : "";
  engine.textContent = `Engine: ${health.engine === "lama" ? "LaMa" : "classical"}${speed}`;
  if (health.engine === "lama") {
    banner.hidden = true;
    return;
  }
  const hint = health.model_missing_hint || "Install the LaMa model with `invoke fetch-model`.";
  banner.replaceChildren();
  const close = document.createElement("button");
  close.type = "button";
  close.className = "btn small";
  close.textContent = "Hide";
  close.addEventListener("click", () => { banner.hidden = true; });
  const title = document.createElement("strong");
  title.textContent = "Classical fill in use";
  banner.append(close, title, " (it suits small blemishes only). ", ...withCode(hint));
  banner.hidden = false;
}

/** Text with `backticked` parts as <code>. */
function withCode(text) {
  return text.split("`").map((part, i) => {
    if (i % 2 === 0) return part;
    const code = document.createElement("code");
    code.textContent = part;
    return code;
  });
}

/** Elapsed time against an estimate, ticking while a request runs. */
export class Progress {
  constructor() {
    this.box = document.getElementById("progress");
    this.label = document.getElementById("progress-label");
    this.time = document.getElementById("progress-time");
    this.bar = document.getElementById("progress-bar");
    this.timer = 0;
  }

  start(estimateSeconds, label = "Erasing…") {
    const started = performance.now();
    this.label.textContent = label;
    this.box.dataset.overdue = "false";
    this.box.hidden = false;
    const tick = () => {
      const elapsed = (performance.now() - started) / 1000;
      if (estimateSeconds) {
        const overdue = elapsed > estimateSeconds * 1.15;
        this.box.dataset.overdue = String(overdue);
        this.bar.style.width = `${Math.min(100, (elapsed / estimateSeconds) * 100)}%`;
        this.time.textContent = overdue
          ? `${formatSeconds(elapsed)} · taking longer than the ~${formatSeconds(estimateSeconds)} estimate`
          : `${formatSeconds(elapsed)} of about ${formatSeconds(estimateSeconds)}`;
      } else {
        this.box.dataset.overdue = "true";
        this.time.textContent = formatSeconds(elapsed);
      }
    };
    tick();
    this.timer = setInterval(tick, 200);
  }

  stop() {
    clearInterval(this.timer);
    this.box.hidden = true;
  }
}

export function formatSeconds(s) {
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
}
