// Every mutating call goes through the outbox: stored first (IndexedDB, with its Idempotency-Key), then sent in
// order. A network failure stops the round and leaves the rest queued; the online event and a timer retry. The
// server applies each key once, so a call sent twice (answer lost) is answered from its first application.
import { deviceId, t, uuid, $ } from "./device.js";
import { outbox } from "./store.js";

const listeners = new Set();
let csrf = document.querySelector("meta[name=csrf-token]")?.content || "";
let csrfFresh = false;
let flushing = null;

export function onResult(fn) { listeners.add(fn); }

// One at a time: the screen's reads of (kept state + queue) and the outbox's updates of them.
let turn = Promise.resolve();
export function exclusive(fn) {
  const run = turn.then(fn, fn);
  turn = run.catch(() => {});
  return run;
}

function setNet(online) {
  const el = $("hh-net");
  if (!el) { return; }
  el.dataset.state = online ? "online" : "offline";
  el.textContent = online ? t("online") : t("offline");
}

export async function refreshCsrf() {
  const resp = await fetch("/hh/api/session", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
    credentials: "same-origin" });
  if (resp.ok) { csrf = (await resp.json()).csrf_token; csrfFresh = true; }
  return resp.ok;
}

function post(item) {
  return fetch(item.url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf,
      "Idempotency-Key": item.key, "X-Device-Id": deviceId() },
    body: JSON.stringify(item.body),
  });
}

export async function pending() { return outbox.list(); }

let adding = 0;  // scans submitted whose write to the store has not ended yet

export async function showPending() {
  const items = await outbox.list();
  const button = $("hh-pending");
  if (!button) { return items; }
  button.hidden = items.length === 0 && adding === 0;
  button.textContent = String(items.length + adding);
  button.setAttribute("aria-label", `${items.length} ${t("pending")}`);
  const list = document.querySelector("#hh-pending-list ol");
  list.replaceChildren(...items.map((i) => {
    const li = document.createElement("li");
    const what = i.body.step ? t(i.body.step) : i.label || i.body.kind;
    li.textContent = `${what}: ${i.body.code ?? i.body.quantity ?? ""}`;
    return li;
  }));
  return items;
}

// Queue a call and try to send it now. `local` travels with it (what the device predicted).
export async function submit(url, body, extra = {}) {
  const item = { url, body, key: uuid(), at: new Date().toISOString(), ...extra };
  // The scan waits from this instant: the badge shows it before its (asynchronous) write to the device's store
  // ends, so the screen never says "nothing waiting" while a scan it already counted is still unsent.
  adding += 1;
  const button = $("hh-pending");
  if (button) { button.hidden = false; }
  try {
    item.seq = await outbox.add(item);
  } finally {
    adding -= 1;
  }
  await showPending();
  flush();
  return item;
}

async function sendOne(item) {
  let resp = await post(item);
  if (resp.status === 400 || resp.status === 403) {
    const problem = await resp.clone().json().catch(() => ({}));
    if (String(problem.type || "").includes("csrf")) { await refreshCsrf(); resp = await post(item); }
  }
  return resp;
}

// → true when it went through the whole queue, false when it stopped (network down, server failing, signed out).
async function round() {
  if (!csrfFresh && !(await refreshCsrf().catch(() => false))) { setNet(false); return false; }
  for (const item of await outbox.list()) {
    let resp;
    try { resp = await sendOne(item); } catch (e) { setNet(false); return false; }
    if (resp.status >= 500 || resp.status === 429) { setNet(false); return false; }
    // Signed out (session expired while offline): keep every scan until the person signs in again.
    if (resp.status === 401) { setNet(true); return false; }
    setNet(true);
    const data = await resp.json().catch(() => ({}));
    // Leaving the queue and being absorbed by the screen happen as one step: a render never sees the scan gone
    // from the queue but not yet in the kept state (it would briefly count it zero times).
    await exclusive(async () => {
      await outbox.remove(item.seq);
      for (const fn of listeners) { await fn(item, resp.status, data); }
    });
    await showPending();
  }
  return true;
}

// A call queued while a round is sending goes out as soon as that round ends (not at the next timer tick).
let again = false;
export function flush() {
  if (flushing) { again = true; return flushing; }
  flushing = (async () => {
    let drained;
    do { again = false; drained = await round(); } while (drained && again);
  })().finally(() => { flushing = null; });
  return flushing;
}

export function idle() { return flushing || Promise.resolve(); }

window.addEventListener("online", () => { setNet(true); flush(); });
window.addEventListener("offline", () => setNet(false));
setInterval(() => { flush(); }, 4000);
