// The scan field keeps the focus (a keyboard-wedge scanner types the code and Enter into whatever has it).
import { $ } from "./device.js";

export function scanField(onScan) {
  const input = $("scan");
  const form = $("scan-form");
  const refocus = () => {
    const open = document.querySelector("#exceptions:not([hidden]), #camera:not([hidden])");
    if (!open && document.activeElement !== input) { input.focus({ preventScroll: true }); }
  };
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
