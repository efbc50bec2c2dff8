// Camera scanning when there is no scanner: ZXing (vendored UMD, window.ZXing) reads the code from the video.
import { $, t } from "./device.js";
import { error } from "./feedback.js";

let reader = null;

export function cameraButton(onScan) {
  const button = $("camera-button");
  const panel = $("camera");
  if (!button || !panel) { return; }
  const stop = () => { if (reader) { reader.reset(); reader = null; } panel.hidden = true; };
  $("camera-close")?.addEventListener("click", stop);
  button.addEventListener("click", async () => {
    if (!window.ZXing || !navigator.mediaDevices) { error(); $("message").textContent = t("camera_unavailable"); return; }
    panel.hidden = false;
    reader = new window.ZXing.BrowserMultiFormatReader();
    try {
      await reader.decodeFromConstraints({ video: { facingMode: "environment" } }, $("camera-video"), (result) => {
        if (result) { const code = result.getText(); stop(); onScan(code); }
      });
    } catch (e) { stop(); error(); $("message").textContent = t("camera_unavailable"); }
  });
}
