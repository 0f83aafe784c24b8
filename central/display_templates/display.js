// The waiting-room display: long-polls /display/<centre>/calls, shows each new call at once, then
// plays the chime and the spoken number, one call after another. Plain JS, no library, no CDN.
(function () {
  "use strict";
  var root = document.getElementById("display");
  var centre = root.dataset.centre;
  var since = parseInt(root.dataset.last, 10) || 0;
  var WAIT = 20; // seconds the server may hold a poll
  var pending = []; // calls still to be announced, oldest first
  var speaking = false;
  var soundOn = false;
  var recent = document.getElementById("recent");
  // what was shown and played, and when (the browser test measures the delay from these)
  window.displayLog = { shown: [], played: [] };

  // Vietnam's time (UTC+7 all year), whatever time zone the TV's browser was set up with: a TV
  // left on UTC showed 22:58 at 05:58 in the morning
  function vietnamNow() { return new Date(Date.now() + 7 * 3600 * 1000); }
  function clock() {
    var d = vietnamNow();
    var p = function (n) { return (n < 10 ? "0" : "") + n; };
    document.getElementById("clock").textContent = p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
  }
  clock();
  setInterval(clock, 10000);

  // Browsers play sound only after a click on the page (autoplay policy); a TV's technician clicks
  // once. Where the policy allows it (kiosk mode, the browser test) the notice never shows.
  function checkSound() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    var ctx = Ctx ? new Ctx() : null;
    soundOn = !!ctx && ctx.state === "running";
    if (ctx) { ctx.close(); }
    document.getElementById("sound").hidden = soundOn;
  }
  checkSound();
  document.addEventListener("click", function () {
    soundOn = true;
    document.getElementById("sound").hidden = true;
    new Audio("/display/static/chime.wav").play().catch(function () {});
  });

  function counterName(c) { return c.counter_name || ("Quầy " + c.counter); }

  function show(c) {
    var now = document.querySelector(".now");
    var prev = document.getElementById("now-number").textContent;
    var prevCounter = document.getElementById("now-counter").textContent;
    if (prev && prev !== "—") {
      var li = document.createElement("li");
      var n = document.createElement("span"); n.className = "n"; n.textContent = prev;
      var k = document.createElement("span"); k.className = "c"; k.textContent = prevCounter;
      li.appendChild(n); li.appendChild(k);
      recent.insertBefore(li, recent.firstChild);
      while (recent.children.length > 7) { recent.removeChild(recent.lastChild); }
    }
    document.getElementById("now-number").textContent = c.number;
    document.getElementById("now-counter").textContent = counterName(c);
    document.getElementById("now-text").textContent = c.text_vi;
    now.classList.remove("fresh"); void now.offsetWidth; now.classList.add("fresh");
    root.dataset.shownCall = c.call_id;
    window.displayLog.shown.push({ call_id: c.call_id, number: c.number, at: Date.now() });
  }

  function play(url) {
    return new Promise(function (resolve) {
      var a = new Audio(url);
      var done = function () { resolve(); };
      a.onended = done; a.onerror = done;
      a.play().then(function () {
        window.displayLog.played.push({ url: url, at: Date.now() });
      }, done);
      setTimeout(done, 15000); // a stuck file never stops the next call's sound
    });
  }

  function announceNext() {
    if (speaking || !pending.length) { return; }
    var c = pending.shift();
    if (!soundOn) { pending = []; return; }
    speaking = true;
    play("/display/static/chime.wav").then(function () {
      return c.speech ? play(c.speech) : null;
    }).then(function () { speaking = false; announceNext(); });
  }

  function arrived(calls) {
    // the server gives newest first; show and announce in the order they were called
    calls.slice().reverse().forEach(function (c) {
      if (c.call_id <= since) { return; }
      since = c.call_id;
      show(c);
      pending.push(c);
    });
    announceNext();
  }

  function poll() {
    fetch("/display/" + centre + "/calls?since=" + since + "&wait=" + WAIT, { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (body) {
        document.getElementById("offline").hidden = true;
        arrived(body.calls || []);
        setTimeout(poll, 0);
      })
      .catch(function () {
        document.getElementById("offline").hidden = false;
        setTimeout(poll, 1000);
      });
  }
  poll();
  // a TV browser left on for weeks: start afresh every night (02:00–03:00), when nobody is waiting
  setInterval(function () { if (vietnamNow().getUTCHours() === 2 && !speaking) { location.reload(); } }, 3600 * 1000);
})();
