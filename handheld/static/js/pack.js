// Packing: pack station (once) → tote → each item verified by scan → box → weight typed → label → tracking.
// Every step is sent at once (the label needs the server); a refusal answers 409/422 with the reason, shown with
// the error sound, and changes nothing. A call whose answer was lost is sent again with the same Idempotency-Key.
import { $, deviceId, uuid } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { scanField } from "./scanfield.js";
import { cameraButton } from "./camera.js";

const STATION_KEY = "hh.pack.station";
let texts = null;
function tt(key) {
  if (!texts) { texts = JSON.parse($("pack-text")?.textContent || "{}"); }
  return texts[key] || key;
}

let csrf = document.querySelector("meta[name=csrf-token]")?.content || "";
let station = new URLSearchParams(location.search).get("station") || localStorage.getItem(STATION_KEY) || "";
let shipment = null;
let boxes = [];
let closing = false; // the packer asked to close the open parcel before every item is in
let held = false; // after a cancelled label: a new one only when the packer asks

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

async function refreshCsrf() {
  const resp = await fetch("/hh/api/session", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
    credentials: "same-origin" });
  if (resp.ok) { csrf = (await resp.json()).csrf_token; }
}

async function call(url, body) {
  const key = uuid();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const send = () => fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf,
          "Idempotency-Key": key, "X-Device-Id": deviceId() },
        body: JSON.stringify(body),
      });
      let resp = await send();
      if (resp.status === 400) {
        const problem = await resp.clone().json().catch(() => ({}));
        if (String(problem.type || "").includes("csrf")) { await refreshCsrf(); resp = await send(); }
      }
      const data = await resp.json().catch(() => ({}));
      return { ok: resp.ok, status: resp.status, data };
    } catch (e) {
      await new Promise((r) => setTimeout(r, 800));
    }
  }
  return { ok: false, status: 0, data: { detail: tt("network") } };
}

function step() {
  if (!station) { return "station"; }
  if (!shipment) { return "tote"; }
  if (shipment.status !== "packing") { return "done"; }
  const open = shipment.open_parcel ? shipment.parcels[shipment.open_parcel - 1] : null;
  if (open && open.box) { return "weight"; }
  if (open && (shipment.complete || closing)) { return "box"; }
  if (!open && shipment.complete) { return "finish"; }
  return "item";
}

function render() {
  const s = step();
  $("pack").dataset.step = s;
  $("station").textContent = station ? `${tt("station")} ${station}` : "";
  $("order").textContent = shipment ? `${tt("order")} ${shipment.order}` : "";
  const parcelSeq = shipment ? (shipment.open_parcel || shipment.parcels.length || 1) : null;
  $("parcel").textContent = parcelSeq ? `${tt("parcel")} ${parcelSeq}` : "";
  const prompts = { station: "scan_station", tote: "scan_tote", item: "scan_items", box: "choose_box",
    weight: "type_weight", finish: "labelling", done: "done" };
  $("prompt").textContent = tt(prompts[s]);
  const scan = $("scan");
  scan.inputMode = s === "weight" ? "numeric" : "text";
  $("big").textContent = s === "station" ? "PS-?" : s === "tote" ? "TOTE" : shipment ? shipment.order : "";
  const lines = shipment && s !== "done" ? shipment.lines : [];
  $("lines").replaceChildren(...lines.map((ln) => {
    const li = document.createElement("li");
    li.className = "hh-card";
    li.dataset.sku = ln.sku;
    li.dataset.left = String(ln.to_pack - ln.packed);
    li.textContent = `${ln.packed}/${ln.to_pack} · ${ln.sku} · ${ln.name}`;
    if (ln.packed === ln.to_pack) { li.style.borderColor = "var(--ok)"; }
    return li;
  }));
  $("box-choice").hidden = s !== "box";
  if (s === "box") {
    const sug = shipment.suggested_box;
    $("suggestion").textContent = sug ? (sug.box ? `${tt("suggested")}: ${sug.box}` : tt("no_box_fits")) : "";
    $("boxes").replaceChildren(...boxes.map((b) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "hh-button" + (sug && sug.box === b.code ? " primary" : "");
      button.dataset.box = b.code;
      button.textContent = `${b.code} · ${b.inner_length_mm}×${b.inner_width_mm}×${b.inner_height_mm}`;
      button.addEventListener("click", () => { inOrder(() => onScan(b.code)); });
      return button;
    }));
  }
  $("expected").hidden = s !== "weight";
  if (s === "weight") {
    $("expected").textContent = shipment.expected_weight_g ? `${tt("expected")}: ${shipment.expected_weight_g} g` : "";
  }
  const open = shipment && shipment.open_parcel ? shipment.parcels[shipment.open_parcel - 1] : null;
  $("close-parcel").hidden = !(s === "item" && open && open.items.length);
  $("next-tote").hidden = s !== "done";
  $("cancel-label").hidden = s !== "done";
  $("relabel").hidden = !(s === "finish" && held);
  $("result").hidden = s !== "done";
  if (s === "done") {
    $("big").textContent = shipment.tracking_number;
    const rows = shipment.parcels.flatMap((p) => {
      const dt = document.createElement("dt");
      dt.textContent = `${tt("parcel")} ${p.seq}`;
      const dd = document.createElement("dd");
      dd.className = "tracking";
      dd.dataset.sscc = p.sscc || "";
      dd.textContent = p.tracking_number;
      const div = document.createElement("div");
      div.append(dt, dd);
      const sscc = document.createElement("div");
      sscc.innerHTML = "<dt>SSCC</dt><dd class='sscc'></dd>";
      sscc.lastChild.textContent = p.sscc || "";
      return [div, sscc];
    });
    const where = document.createElement("div");
    where.innerHTML = "<dt></dt><dd id='label-printer'></dd>";
    where.firstChild.textContent = tt("printed_at");
    where.lastChild.textContent = shipment.label_printer || "";
    $("tracking").replaceChildren(...rows, where);
  }
}

async function apply(resp, okText) {
  if (!resp.ok) {
    error();
    say(resp.data.detail || resp.data.title || String(resp.status), "error");
    return false;
  }
  shipment = resp.data.shipment;
  success();
  say(okText, "ok");
  render();
  if (step() === "finish" && !held) { await finish(); }
  return true;
}

async function finish() {
  render();
  const resp = await call(`/hh/api/pack/${shipment.id}/finish`, {});
  if (await apply(resp, tt("done")) && shipment.status === "labelled") {
    say(`${tt("tracking")} ${shipment.tracking_number} · ${tt("printed_at")} ${shipment.label_printer || ""}`, "ok");
  }
}

async function onScan(code) {
  const s = step();
  if (s === "station") {
    station = code.trim().toUpperCase();
    localStorage.setItem(STATION_KEY, station);
    success(); say(`${tt("station")} ${station}`, "ok"); render();
    return;
  }
  if (s === "tote") {
    const resp = await call("/hh/api/pack/start", { station, tote: code });
    if (!resp.ok && resp.status === 404 && String(resp.data.detail || "").includes(station)) {
      station = ""; localStorage.removeItem(STATION_KEY);
    }
    closing = false;
    held = false;
    await apply(resp, resp.ok ? `${tt("order")} ${resp.data.shipment.order}` : "");
    return;
  }
  if (s === "item") {
    await apply(await call(`/hh/api/pack/${shipment.id}/items`, { code }), `${tt("item_ok")}: ${code}`);
    return;
  }
  if (s === "box") {
    const resp = await call(`/hh/api/pack/${shipment.id}/box`, { box: code });
    await apply(resp, `${tt("box_ok")} ${code}`);
    return;
  }
  if (s === "weight") {
    if (!/^\d{1,7}$/.test(code)) { error(); say(tt("not_a_weight"), "error"); return; }
    const resp = await call(`/hh/api/pack/${shipment.id}/weight`, { weight_g: Number(code) });
    if (resp.ok) { closing = false; }
    await apply(resp, `${tt("weight_ok")}: ${code} g`);
    return;
  }
  if (s === "done") {
    shipment = null;
    await onScan(code); // a new tote scanned straight after the label
  }
}

async function loadBoxes() {
  try {
    const resp = await fetch("/hh/api/pack/boxes", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
      credentials: "same-origin" });
    if (resp.ok) { boxes = (await resp.json()).boxes; }
  } catch (e) { boxes = []; }
}

const inOrder = oneAtATime();
scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("close-parcel").addEventListener("click", () => { closing = true; render(); });
$("next-tote").addEventListener("click", () => { shipment = null; say("", ""); render(); });
$("change-station").addEventListener("click", () => {
  station = ""; shipment = null; localStorage.removeItem(STATION_KEY); render();
});
$("cancel-label").addEventListener("click", () => {
  inOrder(async () => {
    held = true;
    const resp = await call(`/hh/api/pack/${shipment.id}/cancel-label`, {});
    await apply(resp, tt("label_cancelled"));
  });
});
$("relabel").addEventListener("click", () => { held = false; inOrder(finish); });
loadBoxes().then(render);
