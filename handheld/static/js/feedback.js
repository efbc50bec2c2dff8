// Distinct sounds and vibration: one short high beep for success, two low long ones for an error.
let audio = null;

function tone(freq, ms, delay = 0) {
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "square";
    osc.frequency.value = freq;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    const start = audio.currentTime + delay / 1000;
    osc.start(start);
    osc.stop(start + ms / 1000);
  } catch (e) { /* no audio on this device: vibration and colour still tell */ }
}

function flash(kind) {
  document.body.classList.remove("flash-ok", "flash-error");
  void document.body.offsetWidth;
  document.body.classList.add(kind === "ok" ? "flash-ok" : "flash-error");
}

export function success() {
  tone(1760, 80);
  if (navigator.vibrate) { navigator.vibrate(40); }
  flash("ok");
}

export function error() {
  tone(220, 200);
  tone(180, 260, 260);
  if (navigator.vibrate) { navigator.vibrate([150, 80, 150]); }
  flash("error");
}

// Scans are handled one after another, in the order they came. One whose handling fails (a bug, storage full) is
// told with the error sound and the message line, and never stops the scans after it.
export function oneAtATime() {
  let last = Promise.resolve();
  return (fn) => {
    last = last.then(fn).catch((e) => {
      console.error(e);
      error();
      const m = document.getElementById("message");
      if (m) { m.textContent = String((e && e.message) || e); m.className = "hh-message error"; }
    });
    return last;
  };
}
