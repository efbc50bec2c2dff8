// Staging: scan the shipping sas once, then every parcel put there (SSCC in any scan form, or tracking number).
// Each parcel scan goes through the outbox (kept on the device when offline); the server's answer says how many
// parcels of the shipment are in the sas, or why the parcel was refused.
import { $, t as baseT } from "./device.js";
import { error, oneAtATime, success } from "./feedback.js";
import { onResult, submit } from "./outbox.js";
import { scanField } from "./scanfield.js";
import { cameraButton } from "./camera.js";

const texts = JSON.parse($("stage-text")?.textContent || "{}");
const t = (key) => texts[key] || baseT(key);
let sas = sessionStorage.getItem("hh.stage.sas") || "";

function say(text, kind) { const m = $("message"); m.textContent = text; m.className = `hh-message ${kind}`; }

function render() {
  $("stage").dataset.step = sas ? "parcel" : "sas";
  $("prompt").textContent = sas ? t("scan_parcel") : t("scan_sas");
  $("big").textContent = sas ? `${t("sas")} ${sas}` : "";
  $("change-sas").hidden = !sas;
}

function remember(data) {
  const li = document.createElement("li");
  li.textContent = `${data.order} · ${data.tracking_number} · ${data.staged}/${data.parcels} ${t("staged")}`;
  $("done").prepend(li);
}

async function onScan(code) {
  if (!sas) { sas = code; sessionStorage.setItem("hh.stage.sas", sas); success(); say("", "ok"); render(); return; }
  success();
  say(code, "ok");
  await submit("/hh/api/stage", { location: sas, parcel: code }, { predicted: true, label: `${t("sas")} ${sas}` });
}

onResult(async (item, status, data) => {
  if (item.url !== "/hh/api/stage") { return; }
  if (status >= 400) { error(); say(data.detail || String(status), "error"); return; }
  remember(data);
  say(data.shipment_staged ? `${data.order}: ${t("shipment_staged")}` : `${data.staged}/${data.parcels} ${t("staged")}`,
    "ok");
});

const inOrder = oneAtATime();
scanField((code) => { inOrder(() => onScan(code)); });
cameraButton((code) => { inOrder(() => onScan(code)); });
$("change-sas").addEventListener("click", () => { sas = ""; sessionStorage.removeItem("hh.stage.sas"); render(); });
render();
