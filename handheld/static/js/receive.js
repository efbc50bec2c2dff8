// Receiving: choose a purchase order (or one of its ASNs) → scan the item → units → lot and best-before when the
// product needs them → sent (queued offline, applied once). Unknown items and over-receipts are refused.
import { $, deviceId, t as baseT } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { onResult, submit } from "./outbox.js";
import { getValue, setValue } from "./store.js";
import { scanField } from "./scanfield.js";
import { cameraButton } from "./camera.js";

const texts = JSON.parse($("rcv-text")?.textContent || "{}");
const t = (key) => texts[key] || baseT(key);

let orders = [];
let receipt = null;       // the receipt sheet from the server
let entry = null;         // { line, code, quantity, lot_code, best_before } being declared
let step = "list";

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

function gtin(code) { return /^\d{8,14}$/.test(code) ? code.padStart(14, "0") : code; }

function lineFor(code) {
  if (!receipt) { return null; }
  return receipt.po.lines.find((l) => l.sku === code || l.barcodes.includes(gtin(code))) || null;
}

async function load() {
  try {
    const resp = await fetch("/hh/api/receive/orders", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
      credentials: "same-origin" });
    if (resp.ok) { const data = await resp.json(); orders = data.orders; await setValue("receive-orders", orders); }
  } catch (e) { orders = (await getValue("receive-orders")) || []; }
  render();
}

function button(label, data, onClick) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.className = "hh-button primary";
  b.type = "button";
  Object.assign(b.dataset, data);
  b.textContent = label;
  b.addEventListener("click", onClick);
  li.append(b);
  return li;
}

function start(number, asn) {
  say("", "");
  submit("/hh/api/receive/start", asn ? { number, asn } : { number }, { predicted: true, label: number });
}

function render() {
  $("orders").hidden = step !== "list";
  $("receipt").hidden = !receipt || step === "list" || step === "finished";
  $("finished").hidden = step !== "finished";
  $("receive").dataset.step = step;
  if (step === "list") {
    const items = [];
    for (const po of orders) {
      items.push(button(`${po.number} · ${po.supplier}`, { po: po.number }, () => start(po.number)));
      for (const asn of po.asns) {
        items.push(button(`${po.number} · ${t("asn")} ${asn}`, { po: po.number, asn }, () => start(po.number, asn)));
      }
    }
    $("orders").replaceChildren(...(items.length ? items
      : [Object.assign(document.createElement("li"), { textContent: t("no_orders") })]));
    return;
  }
  if (!receipt) { return; }
  $("receipt-code").textContent = `${receipt.code} · ${receipt.po.number}`;
  const prompts = { item: "scan_item", quantity: "enter_quantity", lot: "enter_lot", bbd: "enter_bbd" };
  $("prompt").textContent = t(prompts[step] || step);
  $("big").textContent = entry ? entry.line.sku : receipt.po.number;
  $("item").textContent = entry ? `${entry.line.sku} · ${entry.line.name}` : "";
  $("po-lines").querySelector("tbody").replaceChildren(...receipt.po.lines.map((l) => {
    const tr = document.createElement("tr");
    tr.dataset.sku = l.sku;
    for (const v of [l.sku, String(l.received), String(l.quantity)]) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    return tr;
  }));
}

function parseDate(text) {
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) { const s = /^(\d{2})(\d{2})(\d{2})$/.exec(text); if (s) { m = [s[0], `20${s[1]}`, s[2], s[3]]; } }
  if (!m) { return null; }
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCMonth() !== Number(m[2]) - 1) { return null; }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function send(predicted, reason) {
  const body = { code: entry.code, quantity: entry.quantity };
  if (entry.lot_code) { body.lot_code = entry.lot_code; }
  if (entry.best_before) { body.best_before = entry.best_before; }
  if (predicted) { success(); say(`${entry.quantity} × ${entry.line.sku}`, "ok"); entry.line.received += entry.quantity; }
  else { error(); say(reason, "error"); }
  submit(`/hh/api/receive/${receipt.code}/line`, body, { predicted, label: `${entry.code} ×${entry.quantity}` });
  entry = null;
  step = "item";
  render();
}

function onScan(code) {
  if (!receipt || step === "list" || step === "finished") { return; }
  if (step === "item") {
    const line = lineFor(code);
    if (!line) {
      entry = { line: { sku: code, name: "" }, code, quantity: 1 };
      send(false, `${t("not_on_po")} ${receipt.po.number}`);
      return;
    }
    success();
    say(`${line.sku} · ${line.name}`, "ok");
    entry = { line, code, quantity: null };
    step = "quantity";
  } else if (step === "quantity") {
    if (!/^\d{1,6}$/.test(code) || Number(code) === 0) { error(); say(t("bad_number"), "error"); return; }
    entry.quantity = Number(code);
    const room = entry.line.allowed - entry.line.received;
    if (entry.quantity > room) { send(false, `${t("too_many")} ${Math.max(room, 0)}`); return; }
    if (entry.line.lot) { step = "lot"; } else if (entry.line.bbd) { step = "bbd"; } else { send(true); return; }
    success();
  } else if (step === "lot") {
    entry.lot_code = code;
    if (entry.line.bbd) { success(); step = "bbd"; } else { send(true); return; }
  } else if (step === "bbd") {
    const date = parseDate(code);
    if (!date) { error(); say(t("bad_date"), "error"); return; }
    entry.best_before = date;
    send(true);
    return;
  }
  render();
}

onResult(async (item, status, data) => {
  if (item.url === "/hh/api/receive/start") {
    if (status >= 400) { error(); say(`${t("refused")}: ${data.detail || status}`, "error"); return; }
    receipt = data.receipt;
    step = "item";
    render();
    $("scan").focus();
    return;
  }
  if (item.url.startsWith("/hh/api/receive/") && item.url.endsWith("/line")) {
    if (status >= 400 || data.outcome === "refused") {
      if (item.predicted || status >= 400) { error(); }
      say(`${t("refused")}: ${data.message || data.detail || status}`, "error");
    }
    if (data.receipt && receipt && data.receipt.code === receipt.code) { receipt = data.receipt; render(); }
    return;
  }
  if (item.url.endsWith("/finish")) {
    if (status >= 400) { error(); say(`${t("refused")}: ${data.detail || status}`, "error"); return; }
    step = "finished";
    $("finished-text").textContent = [t("finished"), ...(data.notes || [])].join(" ");
    $("finished-tasks").replaceChildren(...data.tasks.map((x) => Object.assign(document.createElement("li"),
      { textContent: `${x.lane} · ${x.sku} · ${x.quantity}` })));
    render();
  }
});

const inOrder = oneAtATime();
scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("finish").addEventListener("click", () => {
  if (receipt) { submit(`/hh/api/receive/${receipt.code}/finish`, {}, { predicted: true, label: receipt.code }); }
});
$("back").addEventListener("click", () => { receipt = null; entry = null; step = "list"; load(); });
load();
