// R20: counts down to the moment the video link opens, then reloads the page, which then
// goes straight to the room. The server's clock decides; the offset to the browser's clock
// is measured once, so a wrong clock on the phone does not open the page too early or late.
// The days are the page's language's ("2 dagar", "1 day": the browser's Intl, plural included).
(function () {
  "use strict";
  const data = document.getElementById("video-countdown");
  const out = document.getElementById("countdown");
  if (!data || !out) return;
  const times = JSON.parse(data.textContent);
  const opens = Date.parse(times.opens);
  const skew = Date.parse(times.now) - Date.now();
  const dayFormat = new Intl.NumberFormat(document.documentElement.lang || undefined,
    { style: "unit", unit: "day", unitDisplay: "long" });
  out.parentElement.hidden = false;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    const left = Math.max(0, Math.round((opens - (Date.now() + skew)) / 1000));
    if (left === 0) {
      out.textContent = out.getAttribute("data-opens-label");
      window.location.reload();
      return;
    }
    const days = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    out.textContent = (days ? dayFormat.format(days) + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
    window.setTimeout(tick, 1000);
  }
  tick();
})();
