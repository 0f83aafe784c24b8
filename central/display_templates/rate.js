// The rating tablet at a counter: long-polls /rate/<centre>/<counter>/served; when the officer marks
// a ticket served here it asks "Quý khách có hài lòng không?" with four buttons, posts the tap, says
// thanks, then goes back to the idle screen (also after a minute without a tap). Plain JS, no CDN.
(function () {
  "use strict";
  var root = document.getElementById("rate");
  var base = "/rate/" + root.dataset.centre + "/" + root.dataset.counter;
  var since = parseInt(root.dataset.since, 10) || 0;
  var QUESTION_MS = (parseInt(root.dataset.questionS, 10) || 60) * 1000;
  var THANKS_MS = 5000;
  var WAIT = 20; // seconds the server may hold a poll
  var ticket = null; // the ticket being asked about
  var timer = null;
  var sending = false;
  // what was shown and sent, and when (the browser test reads it)
  window.rateLog = { asked: [], sent: [] };

  function state(name) {
    ["idle", "question", "thanks"].forEach(function (s) { document.getElementById(s).hidden = s !== name; });
    root.dataset.state = name;
    clearTimeout(timer);
    if (name === "question") { timer = setTimeout(function () { ticket = null; state("idle"); }, QUESTION_MS); }
    if (name === "thanks") { timer = setTimeout(function () { state("idle"); }, THANKS_MS); }
  }

  function ask(served) {
    ticket = served;
    document.getElementById("ticket-id").value = served.ticket_id;
    document.getElementById("question-counter").textContent = served.counter_name;
    document.getElementById("question-number").textContent = "Số " + served.number;
    state("question");
    window.rateLog.asked.push({ ticket_id: served.ticket_id, number: served.number, at: Date.now() });
  }

  function send(level) {
    if (!ticket || sending) { return; }
    var asked = ticket;
    sending = true;
    fetch(base, { method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" },
                  body: JSON.stringify({ ticket_id: asked.ticket_id, level: level }) })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (b) { return [r.status, b]; }); })
      .then(function (answer) {
        var ok = answer[0] === 201 || (answer[1] && answer[1].error === "already_rated");
        window.rateLog.sent.push({ ticket_id: asked.ticket_id, level: level, status: answer[0], at: Date.now() });
        document.getElementById("thanks-note").textContent = ok ? "" : (answer[1].message_vi || "");
      })
      .catch(function () {
        document.getElementById("thanks-note").textContent = "Chưa gửi được đánh giá do mất kết nối.";
      })
      .then(function () {
        sending = false;
        if (ticket === asked) { ticket = null; }
        state("thanks");
      });
  }

  Array.prototype.forEach.call(document.querySelectorAll("#rate-form button.level"), function (b) {
    b.addEventListener("click", function (ev) { ev.preventDefault(); send(b.value); });
  });
  document.getElementById("rate-form").addEventListener("submit", function (ev) { ev.preventDefault(); });

  function poll() {
    fetch(base + "/served?since=" + since + "&wait=" + WAIT, { cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
      .then(function (body) {
        document.getElementById("offline").hidden = true;
        since = Math.max(since, body.last_id || 0);
        if (body.served && !sending && (!ticket || ticket.ticket_id !== body.served.ticket_id)) { ask(body.served); }
        setTimeout(poll, 0);
      })
      .catch(function () {
        document.getElementById("offline").hidden = false;
        setTimeout(poll, 1000);
      });
  }
  state("idle");
  poll();
  // a tablet left on for weeks: start afresh every night (02:00–03:00 Vietnam time), when nobody is at the counter
  setInterval(function () {
    if (new Date(Date.now() + 7 * 3600 * 1000).getUTCHours() === 2 && root.dataset.state === "idle") { location.reload(); }
  }, 3600 * 1000);
})();
