// The device's identity, the page's texts, ids for idempotency keys.
export function uuid() {
  if (globalThis.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function deviceId() {
  let id = localStorage.getItem("hh.device");
  if (!id) { id = "hh-" + uuid(); localStorage.setItem("hh.device", id); }
  return id;
}

let texts = null;
export function t(key) {
  if (!texts) { texts = JSON.parse(document.getElementById("hh-text")?.textContent || "{}"); }
  return texts[key] || key;
}

export function $(id) { return document.getElementById(id); }
