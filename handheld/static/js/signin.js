// A sign-in form carries this device's id (kept in its storage, sent with every handheld call), so the session it
// begins is bound to this device: the same cookie used from anywhere else is refused and ended.
import { deviceId } from "./device.js";

for (const input of document.querySelectorAll("input[data-device-id]")) { input.value = deviceId(); }
