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
    // A field being typed in keeps its text, focus and caret across the push.
    var active = document.activeElement, kept = null;
    if (active && active.id && root.contains(active) && active.tagName === "INPUT" && active.type !== "checkbox") {
      kept = { id: active.id, value: active.value, dirty: active.value !== active.defaultValue,
               start: active.selectionStart, end: active.selectionEnd };
    }
    root.innerHTML = push.html;
    var again = kept && document.getElementById(kept.id);
    if (again) {
      if (kept.dirty) again.value = kept.value;
      again.focus();
      try { again.setSelectionRange(kept.start, kept.end); } catch (err) { /* not a text field */ }
    }
    document.title = push.title;
  }
  function post(body) {
    body.token = token;
    return fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? "" : r.text(); },
            function () { return "The change did not reach the server."; });
  }
  function isInput(el) { return el && el.name && el.name.indexOf("in.") === 0 && el.type !== "hidden"; }
  function valueOf(el) { return el.type === "checkbox" ? (el.checked ? "true" : "false") : el.value; }
  // Back to what the server last rendered, after a refused change.
  function revert(el) {
    if (el.type === "checkbox") el.checked = el.defaultChecked;
    else if (el.options) for (var i = 0; i < el.options.length; i++) el.options[i].selected = el.options[i].defaultSelected;
    else el.value = el.defaultValue;
  }
  function change(el) {
    var value = valueOf(el);
    if (el.stPosted === value) return;
    el.stPosted = value;
    post({ input: el.name.slice(3), value: value }).then(function (error) {
      if (error) { el.stPosted = undefined; revert(el); }
      say(error);
    });
  }
  var events = new EventSource(form.getAttribute("data-st-events"));
  events.onmessage = function (e) { apply(JSON.parse(e.data)); };
  events.onopen = function () { say(""); };
  events.onerror = function () {
    say(events.readyState === 2 ? "Disconnected from the server: reload the page." : "Reconnecting…");
  };
  root.addEventListener("change", function (e) { if (isInput(e.target)) change(e.target); });
  root.addEventListener("keydown", function (e) {
    // Enter in a field applies it; it must not click the form's first button.
    if (e.key === "Enter" && isInput(e.target) && e.target.tagName === "INPUT") {
      e.preventDefault();
      change(e.target);
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var button = e.submitter;
    if (!button || button.name !== "key") return;
    post({ key: button.value }).then(say);
  });
})();
