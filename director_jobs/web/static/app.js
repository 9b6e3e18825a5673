// director-jobs pages: live refresh, live output, confirmations. The pages work without
// it (forms post and reload); this only saves reloads and asks before risky actions.
"use strict";

// Refresh the part of a page marked data-refresh every few seconds (the dashboard).
const REFRESH_MS = 3000;

function refreshLive(box) {
  const url = box.dataset.refresh + window.location.search;
  fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then((response) => {
      if (response.redirected || response.status === 401) {
        window.location.reload(); // the session ended: the server sends us to /login
        return null;
      }
      return response.ok ? response.text() : null;
    })
    .then((html) => {
      if (html !== null) {
        box.innerHTML = html;
      }
    })
    .catch(() => {}) // the server restarts: try again at the next tick
    .finally(() => window.setTimeout(() => refreshLive(box), REFRESH_MS));
}

// Follow a running run's output with the Server-Sent Events of /runs/ID/stream.
function followOutput(pre) {
  const source = new EventSource(pre.dataset.stream + "?after=" + pre.dataset.lines);
  source.addEventListener("output", (event) => {
    pre.append(document.createTextNode(event.data + "\n")); // text, never markup
    pre.dataset.lines = event.lastEventId;
    pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener("gap", (event) => {
    const missed = JSON.parse(event.data).missed;
    pre.append(document.createTextNode("[… " + missed + " lines not kept …]\n"));
  });
  source.addEventListener("end", () => {
    source.close();
    window.location.reload(); // shows the final status, exit code and error
  });
}

// Forms marked data-confirm ask first; a confirmed one says so to the server.
function confirmBeforeSubmit(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    const confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "confirmed";
    confirmed.value = "yes";
    form.append(confirmed);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach((box) => {
    window.setTimeout(() => refreshLive(box), REFRESH_MS);
  });
  document.querySelectorAll("pre[data-stream]").forEach(followOutput);
  document.querySelectorAll("form[data-confirm]").forEach(confirmBeforeSubmit);
});
