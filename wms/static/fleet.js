// The printer fleet page: re-draw the fleet every few seconds from the server's own rendering; pause while the
// tab is hidden.
const box = document.getElementById("fleet");
const url = box?.dataset.refreshUrl;

async function refresh() {
  if (document.hidden || !url) return;
  try {
    const resp = await fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}});
    if (resp.ok && resp.headers.get("X-Fleet-Fragment") === "1") box.innerHTML = await resp.text();
  } catch (err) { /* the next tick tries again */ }
}

if (box && url) {
  setInterval(refresh, 5000);
  document.addEventListener("visibilitychange", refresh);
}
