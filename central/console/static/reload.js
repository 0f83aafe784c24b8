// Counter and help-call pages: reload every 15 s so new tickets and calls appear, but never while
// the officer is typing or choosing (a reload would lose what they chose).
(function () {
  var busy = false;
  document.addEventListener("focusin", function (e) {
    var t = e.target && e.target.tagName;
    busy = t === "INPUT" || t === "SELECT" || t === "TEXTAREA";
  });
  document.addEventListener("focusout", function () { busy = false; });
  setInterval(function () { if (!busy && document.visibilityState === "visible") { location.reload(); } }, 15000);
})();
