// Put-away: the lane scanned from its replenish face (R:code; the pick-face label is refused) → the item → units.
import { $, deviceId, t as baseT } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { onResult, submit } from "./outbox.js";
import { getValue, setValue } from "./store.js";
import { scanField } from "./scanfield.js";
import { taskButtons } from "./tasklist.js";
import { cameraButton } from "./camera.js";

const texts = JSON.parse($("rcv-text")?.textContent || "{}");
const t = (key) => texts[key] || baseT(key);

const STEP_RANK = { lane: 0, item: 1, quantity: 2, done: 3 };
let tasks = [];
let task = null;

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

function gtin(code) { return /^\d{8,14}$/.test(code) ? code.padStart(14, "0") : code; }

async function load() {
  try {
    const resp = await fetch("/hh/api/putaway/tasks", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
      credentials: "same-origin" });
    tasks = resp.ok ? (await resp.json()).tasks : (await getValue("putaway-tasks")) || [];
    if (resp.ok) { await setValue("putaway-tasks", tasks); }
  } catch (e) { tasks = (await getValue("putaway-tasks")) || []; }
  if (task) { task = tasks.find((x) => x.id === task.id) || task; }
  render();
}

function render() {
  $("tasks").hidden = Boolean(task);
  $("task").hidden = !task;
  $("putaway").dataset.step = task ? task.step : "list";
  $("tasks").replaceChildren(...taskButtons(tasks, t("no_putaway"), (x) => { task = x; render(); $("scan").focus(); }));
  if (!task) { return; }
  const prompts = { lane: "scan_lane", item: "scan_item", quantity: "enter_quantity", done: "task_done" };
  $("prompt").textContent = t(prompts[task.step] || task.step);
  $("big").textContent = task.step === "item" ? task.sku : task.lane;
  $("item").textContent = `${task.sku} · ${task.name}`;
  $("qty").textContent = String(task.quantity);
  $("source").textContent = task.source || "";
}

async function onScan(code) {
  if (!task || task.step === "done") { return; }
  const step = task.step;
  let ok = true;
  let reason = "";
  if (step === "lane") {
    const face = code.toUpperCase().startsWith("R:") ? "replenish" : "pick";
    const lane = face === "replenish" ? code.slice(2) : code;
    if (face === "pick" && lane === task.lane) { ok = false; reason = t("replenish_face_only"); }
    else if (lane !== task.lane) { ok = false; reason = `${t("lane")} ${task.lane}`; }
  }
  if (step === "item" && code !== task.sku && !task.barcodes.includes(gtin(code))) {
    ok = false; reason = `${t("wrong_item")} ${task.sku}`;
  }
  if (step === "quantity" && !/^\d{1,6}$/.test(code)) { ok = false; reason = t("enter_quantity"); }
  const body = step === "quantity" ? { step, quantity: Number(code) } : { step, code };
  if (ok) { success(); say(code, "ok"); } else { error(); say(reason, "error"); }
  await submit(`/hh/api/putaway/${task.id}/scan`, body, { predicted: ok, label: `${step} ${code}` });
  if (ok) {
    task = { ...task, step: { lane: "item", item: "quantity", quantity: "done" }[step] };
    render();
  }
}

onResult(async (item, status, data) => {
  if (!item.url.startsWith("/hh/api/putaway/")) { return; }
  if (status >= 400 || data.outcome === "refused") {
    if (item.predicted) { error(); say(`${t("conflict")}: ${data.message || data.detail || status}`, "error"); }
    else { say(data.message || data.detail || String(status), "error"); }
  }
  if (data.task && task && data.task.id === task.id) {
    // Answers come back after later scans were made on the device: a late answer must not take the screen back a
    // step (the next scan would be sent for the wrong step). The server's state wins only when it refused a scan
    // the device thought good.
    const overruled = item.predicted && (status >= 400 || data.outcome === "refused");
    if (overruled || STEP_RANK[data.task.step] >= STEP_RANK[task.step]) { task = data.task; render(); }
  }
});

const inOrder = oneAtATime();
scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("back").addEventListener("click", () => { task = null; load(); });
load();
