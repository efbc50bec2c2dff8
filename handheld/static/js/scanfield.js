// The scan field keeps the focus (a keyboard-wedge scanner types the code and Enter into whatever has it).
import { $ } from "./device.js";

const TYPING = new Set(["INPUT", "TEXTAREA", "SELECT"]);

export function scanField(onScan) {
  const input = $("scan");
  const form = $("scan-form");
  const panelOpen = () => document.querySelector("#exceptions:not([hidden]), #camera:not([hidden])");
  const refocus = () => {
    if (!panelOpen() && document.activeElement !== input) { input.focus({ preventScroll: true }); }
  };
  // A scan that starts while nothing that takes text has the focus (a button just tapped, a panel just closed,
  // before the refocus below has run) is caught at its first key: the field takes the focus before the character
  // lands, so the whole code and its Enter go to it instead of being lost.
  document.addEventListener("keydown", (event) => {
    const el = document.activeElement;
    if (el === input || event.ctrlKey || event.metaKey || event.altKey || panelOpen()) { return; }
    if (el && (TYPING.has(el.tagName) || el.isContentEditable)) { return; }
    input.focus({ preventScroll: true });
  }, true);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    input.value = "";
    if (code) { onScan(code); }
    input.focus();
  });
  input.addEventListener("blur", () => setTimeout(refocus, 50));
  document.addEventListener("click", () => setTimeout(refocus, 50));
  setInterval(refocus, 1000);
  input.focus();
  return { input, refocus };
}
