// Every handheld page: the service worker, the pending counter and list, the network badge.
import { flush, showPending } from "./outbox.js";
import { $ } from "./device.js";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/hh/sw.js", { scope: "/hh/" }).catch(() => {});
}
$("hh-pending")?.addEventListener("click", () => {
  const list = $("hh-pending-list");
  list.hidden = !list.hidden;
});
if (!navigator.onLine) { $("hh-net").dataset.state = "offline"; }
showPending().then(() => flush());
