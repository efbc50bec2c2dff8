// Home: take the next pick order of a zone (needs the network), then open the pick screen.
import { deviceId, t, uuid, $ } from "./device.js";
import { error } from "./feedback.js";

// Slot times are rendered in UTC: show them in the device's time.
for (const el of document.querySelectorAll("time.hh-time")) {
  el.textContent = new Date(el.getAttribute("datetime")).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

for (const button of document.querySelectorAll(".take-zone")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const token = await fetch("/hh/api/session", { headers: { Accept: "application/json", "X-Device-Id": deviceId() } }).then((r) => r.json());
      const resp = await fetch("/hh/api/pick/take", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token.csrf_token,
          "Idempotency-Key": uuid(), "X-Device-Id": deviceId() },
        body: JSON.stringify({ zone_id: Number(button.dataset.zone) }),
      });
      const data = await resp.json();
      if (resp.ok && data.sheet) { window.location.href = "/hh/pick"; return; }
      error();
      $("take-message").textContent = data.message || data.detail || t("network");
    } catch (e) { error(); $("take-message").textContent = t("network"); }
    button.disabled = false;
  });
}
