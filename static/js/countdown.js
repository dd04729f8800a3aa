// Keep every <time data-countdown datetime="..."> counting down; the server already rendered
// the same text, so the page reads correctly without JavaScript. A deadline card that htmx
// swaps in (the pages poll for it) counts down at once.
(function () {
  "use strict";

  function unit(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // The same wording as Django's |timeuntil: "13 days, 23 hours"; in the last hour, to the
  // second: "4 minutes, 12 seconds".
  function remaining(ms) {
    if (ms <= 0) return "now";
    if (ms < 3600000) {
      var total = Math.ceil(ms / 1000);
      var m = Math.floor(total / 60);
      var s = total % 60;
      if (!m) return "in " + unit(s, "second");
      return "in " + unit(m, "minute") + (s ? ", " + unit(s, "second") : "");
    }
    var minutes = Math.max(Math.floor(ms / 60000), 1);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    if (days > 0) return "in " + unit(days, "day") + (hours ? ", " + unit(hours, "hour") : "");
    if (hours > 0) return "in " + unit(hours, "hour") + (mins ? ", " + unit(mins, "minute") : "");
    return "in " + unit(mins, "minute");
  }

  // A deadline's progress bar: the share of the time between start and due that has passed.
  function progress(el, now) {
    var start = Date.parse(el.getAttribute("data-starts-at"));
    var due = Date.parse(el.getAttribute("data-due-at"));
    if (isNaN(start) || isNaN(due)) return;
    var percent = due <= start ? 100 : Math.round(100 * Math.min(Math.max((now - start) / (due - start), 0), 1));
    var fill = el.querySelector(".progress-fill");
    if (fill) fill.setAttribute("width", String(percent));
    el.setAttribute("aria-valuenow", String(percent));
    el.classList.toggle("progress-late", percent >= 80);
    var box = el.parentNode;
    var text = box && box.querySelector("[data-progress-text]");
    if (text) text.textContent = percent + "%";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(due)) el.textContent = remaining(due - now);
    });
    document.querySelectorAll("[data-progress]").forEach(function (el) {
      progress(el, now);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    // Every second: a countdown near its end shows seconds, and a bar moves smoothly.
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", tick);
})();
