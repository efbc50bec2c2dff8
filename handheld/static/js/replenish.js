// Replenishment: reserve location → lane scanned from its replenish face (R:code) → units put in.
import { $, deviceId, t } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { onResult, submit } from "./outbox.js";
import { getValue, setValue } from "./store.js";
import { scanField } from "./scanfield.js";
import { taskButtons } from "./tasklist.js";
import { cameraButton } from "./camera.js";

let tasks = [];
let task = null;

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

async function load() {
  try {
    const resp = await fetch("/hh/api/tasks", { headers: { Accept: "application/json", "X-Device-Id": deviceId() },
      credentials: "same-origin" });
    tasks = resp.ok ? (await resp.json()).tasks : (await getValue("tasks")) || [];
    if (resp.ok) { await setValue("tasks", tasks); }
  } catch (e) { tasks = (await getValue("tasks")) || []; }
  if (task) { task = tasks.find((x) => x.id === task.id) || task; }
  render();
}

function render() {
  const list = $("tasks");
  list.hidden = Boolean(task);
  $("task").hidden = !task;
  $("replenish").dataset.step = task ? task.step : "list";
  list.replaceChildren(...taskButtons(tasks, t("no_tasks"), (x) => { task = x; render(); $("scan").focus(); }));
  if (!task) { return; }
  const prompts = { source: "scan_source", lane: "scan_lane", quantity: "enter_quantity", done: "task_done" };
  $("prompt").textContent = t(prompts[task.step] || task.step);
  $("big").textContent = task.step === "source" ? task.source : task.lane;
  $("item").textContent = `${task.sku} · ${task.name}`;
  $("qty").textContent = String(task.quantity);
}

async function onScan(code) {
  if (!task || task.step === "done") { return; }
  const step = task.step;
  let ok = true;
  let reason = "";
  if (step === "source" && code !== task.source) { ok = false; reason = `${t("reserve")} ${task.source}`; }
  if (step === "lane") {
    const face = code.toUpperCase().startsWith("R:") ? "replenish" : "pick";
    const lane = face === "replenish" ? code.slice(2) : code;
    if (face === "pick" && lane === task.lane) { ok = false; reason = t("replenish_face_only"); }
    else if (lane !== task.lane) { ok = false; reason = `${t("lane")} ${task.lane}`; }
  }
  if (step === "quantity" && !/^\d{1,6}$/.test(code)) { ok = false; reason = t("enter_quantity"); }
  const body = step === "quantity" ? { step, quantity: Number(code) } : { step, code };
  if (ok) { success(); say(code, "ok"); } else { error(); say(reason, "error"); }
  await submit(`/hh/api/tasks/${task.id}/scan`, body, { predicted: ok, label: `${step} ${code}` });
  if (ok) {
    task = { ...task, step: { source: "lane", lane: "quantity", quantity: "done" }[step] };
    render();
  }
}

onResult(async (item, status, data) => {
  if (!item.url.startsWith("/hh/api/tasks/")) { return; }
  if ((status >= 400 || data.outcome === "refused") && item.predicted) {
    error(); say(`${t("conflict")}: ${data.message || data.detail || status}`, "error");
  }
  if (data.task && task && data.task.id === task.id) { task = data.task; render(); }
});

const inOrder = oneAtATime();
scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("back").addEventListener("click", () => { task = null; load(); });
load();
