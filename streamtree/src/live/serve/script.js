(function () {
  var form = document.getElementById("st-form");
  var root = document.getElementById("st-root");
  var note = document.getElementById("st-note");
  var seq = Number(root.getAttribute("data-st-seq"));
  var token = form.elements.token.value;
  function say(message) { note.textContent = message; note.hidden = !message; }
  function apply(push) {
    if (push.seq <= seq) return;
    seq = push.seq;
    root.innerHTML = push.html;
    document.title = push.title;
  }
  var events = new EventSource(form.getAttribute("data-st-events"));
  events.onmessage = function (e) { apply(JSON.parse(e.data)); };
  events.onopen = function () { say(""); };
  events.onerror = function () {
    say(events.readyState === 2 ? "Disconnected from the server: reload the page." : "Reconnecting…");
  };
  form.addEventListener("submit", function (e) {
    var button = e.submitter;
    if (!button || button.name !== "key") return;
    e.preventDefault();
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: token, key: button.value })
    }).then(function (r) { return r.ok ? "" : r.text(); },
            function () { return "The click did not reach the server."; })
      .then(say);
  });
})();
