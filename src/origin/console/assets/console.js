// The jwtedge key console's only script (compiled into the origin; the pages work without it):
// counts down to the next key's readiness, and enables the revoke button once the kid typed
// matches the key chosen. The server checks both again.
"use strict";

function tickCountdowns() {
  const now = Date.now() / 1000;
  for (const el of document.querySelectorAll("[data-countdown]")) {
    const left = Math.max(0, Math.ceil(Number(el.dataset.countdown) - now));
    const m = Math.floor(left / 60);
    const s = left % 60;
    el.textContent = left === 0 ? "(reload the page)" : `(${m > 0 ? `${m} min ` : ""}${s} s)`;
  }
}

function watchRevoke() {
  const kid = document.getElementById("revoke-kid");
  const typed = document.getElementById("revoke-confirm");
  const submit = document.getElementById("revoke-submit");
  if (!kid || !typed || !submit) return;
  const update = () => {
    submit.disabled = typed.value.trim() !== kid.value;
  };
  kid.addEventListener("change", update);
  typed.addEventListener("input", update);
  update();
}

document.addEventListener("DOMContentLoaded", () => {
  tickCountdowns();
  setInterval(tickCountdowns, 1000);
  watchRevoke();
});
