// The export page: poll the build's progress and reload when it is done.
(function () {
  "use strict";
  const panel = document.querySelector(".export-progress");
  if (!panel) return;
  const bar = panel.querySelector(".export-bar");
  const setWidth = (percent) => {
    if (!bar) return;
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    bar.parentElement.setAttribute("aria-valuenow", String(percent));
  };
  setWidth(Number(bar ? bar.dataset.progress : 0));
  if (panel.dataset.done === "true") return;
  const note = panel.querySelector(".export-note");
  const state = panel.querySelector(".export-state");
  const poll = () => {
    fetch(panel.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((status) => {
        if (status.done) {
          window.location.reload();
          return;
        }
        setWidth(status.progress);
        if (note && status.note) note.textContent = status.note;
        if (state) state.textContent = status.state_label;
        window.setTimeout(poll, 1000);
      })
      .catch(() => window.setTimeout(poll, 5000));
  };
  window.setTimeout(poll, 1000);
})();
