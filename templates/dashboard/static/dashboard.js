// The dashboard's live parts; every page works without this file.
"use strict";

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  if (s < 86400) return Math.floor(s / 3600) + "h ago";
  return Math.floor(s / 86400) + "d ago";
}

function refreshTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) el.textContent = ago(el.getAttribute("datetime"));
}

// #live is re-rendered by the server: on each event fetch the page again and swap that part in.
function followEvents(live) {
  let pending = false;
  let again = false;
  const source = new EventSource(live.dataset.events);
  const refresh = async () => {
    const typing = document.activeElement;
    // never swap out a form someone is filling in: refresh once they leave the field
    if (typing && typing.tagName === "INPUT" && document.getElementById("live").contains(typing)) {
      typing.addEventListener("blur", refresh, { once: true });
      return;
    }
    if (pending) return void (again = true);
    pending = true;
    try {
      const response = await fetch(location.href, { headers: { accept: "text/html" } });
      const next = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("live");
      const current = document.getElementById("live");
      if (next && current) current.replaceWith(next);
    } finally {
      pending = false;
      // a change that came while fetching: look once more
      if (again) {
        again = false;
        refresh();
      }
    }
  };
  source.addEventListener("change", refresh);
  // a change between the page's render and this stream's (re)connection sent no event: look once on each open
  source.addEventListener("open", refresh);
}

// A log: the API's SSE stream from the offset the page was rendered at ("log" events carry the text
// as a JSON string, their id the next offset, so a reconnect resumes without repeating a byte).
function followLog(log) {
  const url = new URL(log.dataset.stream, location.href);
  url.searchParams.set("offset", log.dataset.offset || "0");
  const source = new EventSource(url);
  source.addEventListener("log", (event) => {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.append(JSON.parse(event.data));
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("end", () => source.close());
}

document.addEventListener("DOMContentLoaded", () => {
  refreshTimes(document);
  setInterval(() => refreshTimes(document), 15000);
  const live = document.getElementById("live");
  if (live && live.dataset.events) followEvents(live);
  const log = document.getElementById("log");
  if (log && log.dataset.stream) followLog(log);
});
