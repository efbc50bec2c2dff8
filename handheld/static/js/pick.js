// The pick screen: shows where to go (big), judges each scan at once for the sound, queues it for the server.
import { $, deviceId, t } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { exclusive, flush, idle, onResult, pending, submit } from "./outbox.js";
import { getValue, setValue } from "./store.js";
import { scanField } from "./scanfield.js";
import { cameraButton } from "./camera.js";
import { judge, lineOf, matchesItem, predict } from "./pickflow.js";

let sheet = null;
let st = null;
let counted = 0;
let conflicts = 0;

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

let absorbed = 0;  // answers taken into the sheet; a fetched sheet older than one of them is dropped

async function load() {
  const seen = absorbed;
  let fresh;
  try {
    const resp = await fetch("/hh/api/pick/current", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
      credentials: "same-origin" });
    fresh = resp.ok ? (await resp.json()).sheet : undefined;
  } catch (e) { fresh = undefined; }
  await exclusive(async () => {
    if (fresh !== undefined && absorbed === seen && (await pending()).length === 0) {
      sheet = fresh;
      await setValue("sheet", fresh);
    } else if (!sheet) {
      sheet = await getValue("sheet");
    }
    await draw();
  });
}

function render() { return exclusive(draw); }

// The end of an OP (dropped at the sas, even while the drop waits in the queue) and no OP at all show the same
// screen (#pick-end, data-step "done"), with nothing left of the last OP's header.
function drawEnd(root) {
  root.dataset.step = "done";
  for (const id of ["op-code", "op-slot", "progress", "prompt", "big", "item", "qty", "tote"]) { $(id).textContent = ""; }
  $("progress").dataset.done = "0";
}

// Where to drop the totes: the sas drop points' codes (the server sends them with the sheet).
function dropText() {
  const points = sheet.op.drop_points || [];
  if (!points.length) { return t("no_drop_point"); }
  return points.length > 3 ? `${points.slice(0, 3).join(" · ")} …` : points.join(" · ");
}

async function draw() {
  const root = $("pick");
  st = sheet ? predict(sheet, await pending()) : null;
  if (!sheet || st.step === "done") { drawEnd(root); return; }
  const line = lineOf(sheet, st);
  root.dataset.step = st.step;
  const done = sheet.lines.filter((l) => (st.picked[l.id] ?? 0) >= l.quantity || (l.closed && l.id !== st.lineId)).length;
  $("op-code").textContent = sheet.op.code;
  $("op-slot").textContent = slotText(sheet.op.slots || []);
  const n = line ? sheet.lines.indexOf(line) + 1 : sheet.lines.length;
  $("progress").textContent = `${t("line")} ${n}/${sheet.lines.length}`;
  $("progress").dataset.done = String(done);
  const prompts = { location: "scan_location", item: "scan_item", tote: "scan_tote", quantity: "enter_quantity",
    drop: "scan_drop" };
  $("prompt").textContent = t(prompts[st.step] || st.step);
  $("tote-label").textContent = line ? t("tote") : t("totes");
  if (line) {
    $("big").textContent = st.step === "tote" ? line.tote || "" : line.location;
    $("item").textContent = `${line.sku} · ${line.name}`;
    const got = (st.picked[line.id] ?? 0) + (st.step === "quantity" ? counted : 0);
    $("qty").textContent = `${got} / ${line.quantity}`;
    $("tote").textContent = line.tote || "";
  } else {  // the sas drop: the code to scan, big, and the totes to leave there
    $("big").textContent = dropText();
    $("item").textContent = ""; $("qty").textContent = "";
    $("tote").textContent = (sheet.op.totes || []).join(", ");
  }
}

function reasonText(reason, line) {
  if (reason === "wrong_location") { return `${t("wrong_location")} ${line.location}`; }
  if (reason === "wrong_item") { return `${t("wrong_item")} ${line.sku}`; }
  if (reason === "wrong_tote") { return `${t("wrong_tote")} ${line.tote || sheet.op.totes.join(", ")}`; }
  if (reason === "too_many") { return `${t("too_many")} ${line.quantity - (st.picked[line.id] ?? 0)}`; }
  if (reason === "pick_face_only") { return t("pick_face_only"); }
  if (reason === "wrong_drop") { return `${t("wrong_drop")} ${dropText()}`; }
  return t(`scan_${reason}`) || reason;
}

async function send(scan, label) {
  const line = lineOf(sheet, st);
  const verdict = judge(sheet, st, scan);
  const body = scan.kind
    ? { kind: scan.kind, quantity: scan.quantity, line_id: line?.id, scanned_at: new Date().toISOString() }
    : { step: scan.step, line_id: scan.step === "drop" ? undefined : line?.id, scanned_at: new Date().toISOString(),
      ...(scan.step === "quantity" ? { quantity: scan.quantity } : { code: scan.code }) };
  const url = `/hh/api/pick/${sheet.op.id}/${scan.kind ? "exception" : "scan"}`;
  if (verdict.ok) { success(); say(label, "ok"); } else { error(); say(reasonText(verdict.reason, line), "error"); }
  await submit(url, JSON.parse(JSON.stringify(body)), { opId: sheet.op.id, scan, predicted: verdict.ok, label });
  if (!navigator.onLine) { say(`${verdict.ok ? label : reasonText(verdict.reason, line)} — ${t("queued")}`, verdict.ok ? "queued" : "error"); }
  await render();
}

async function onScan(code) {
  if (!sheet || !st || st.step === "done") { return; }
  const line = lineOf(sheet, st);
  if (st.step === "quantity" && line) {
    if (matchesItem(line, code)) {
      counted += 1;
      const remaining = line.quantity - (st.picked[line.id] ?? 0);
      if (counted < remaining) { success(); await render(); return; }
      const qty = counted; counted = 0;
      return send({ step: "quantity", quantity: qty }, `${qty} × ${line.sku}`);
    }
    if (/^\d{1,6}$/.test(code)) { counted = 0; return send({ step: "quantity", quantity: Number(code) }, `${code} × ${line.sku}`); }
  }
  counted = 0;
  return send({ step: st.step, code }, code);
}

// The server's answer moves the kept sheet forward, so a reload (even offline) starts from what it knows.
async function absorb(data) {
  const line = data.line && sheet.lines.find((l) => l.id === data.line.id);
  if (line) { line.picked = data.line.picked; }
  sheet.state = data.state;
  absorbed += 1;
  const current = sheet.lines.find((l) => l.id === data.state.line_id);
  for (const l of sheet.lines) { l.closed = current ? l.seq < current.seq : true; }
  await setValue("sheet", sheet);
}

onResult(async (item, status, data) => {
  if (!item.url.startsWith("/hh/api/pick/")) { return; }
  if (sheet && item.opId === sheet.op.id && data.state) { await absorb(data); await draw(); }
  const refused = status >= 400 || data.outcome === "refused";
  if (refused && item.predicted) {
    conflicts += 1;
    error();
    say(`${t("conflict")}: ${data.message || data.detail || status}`, "error");
  }
  if (data.outcome === "applied" && item.body.step === "drop") { success(); say(data.message, "ok"); }
});

async function afterDrain() {
  await idle();
  if ((await pending()).length === 0) { await load(); }
}

const inOrder = oneAtATime();
const field = scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("exception-button").addEventListener("click", () => { $("exceptions").hidden = false; $("exc-qty").focus(); });
$("exception-close").addEventListener("click", () => { $("exceptions").hidden = true; field.refocus(); });
for (const b of document.querySelectorAll("#exceptions [data-kind]")) {
  b.addEventListener("click", () => {
    $("exceptions").hidden = true;
    field.refocus();
    const qty = Number($("exc-qty").value || 0);
    inOrder(() => send({ kind: b.dataset.kind, quantity: qty }, b.textContent));
  });
}
window.addEventListener("online", () => { flush().then(afterDrain); });
setInterval(() => { if (navigator.onLine) { afterDrain(); } }, 5000);
window.hhPick = { get conflicts() { return conflicts; }, get step() { return st && st.step; } };
load();

// The OP's booked slot, from its first start to its last end, in the device's time.
function slotText(slots) {
  if (!slots.length) { return ""; }
  const hm = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const ends = slots.map((s) => s.ends_at).sort();
  return `${hm(slots[0].starts_at)}–${hm(ends[ends.length - 1])}`;
}
