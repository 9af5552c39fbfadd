(function () {
  var form = document.getElementById("st-form");
  var root = document.getElementById("st-root");
  var note = document.getElementById("st-note");
  var seq = Number(root.getAttribute("data-st-seq"));
  var token = form.elements.token.value;
  function say(message) { note.textContent = message; note.hidden = !message; }
  // The seq of the last event of the open stream: the page a patch must start from.
  var last = null, events;
  function apply(push) {
    if (!push.patch && push.seq <= seq) return; // this page already, or newer
    // A field being typed in keeps its text, focus and caret across the push.
    var active = document.activeElement, kept = null;
    if (active && active.id && root.contains(active) && active.tagName === "INPUT" && active.type !== "checkbox") {
      kept = { id: active.id, value: active.value, dirty: active.value !== active.defaultValue,
               start: active.selectionStart, end: active.selectionEnd };
    }
    if (push.patch) {
      // Each op replaces the element at a path of element-child indexes from the root.
      push.patch.forEach(function (op) {
        var el = root;
        op[0].forEach(function (i) { el = el.children[i]; });
        el.outerHTML = op[1];
      });
    } else {
      root.innerHTML = push.html;
    }
    seq = Math.max(seq, push.seq);
    root.setAttribute("data-st-seq", seq);
    var again = kept && !root.contains(active) && document.getElementById(kept.id);
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
  function listen() {
    events = new EventSource(form.getAttribute("data-st-events"));
    events.onmessage = function (e) {
      var push = JSON.parse(e.data);
      try {
        if (push.patch && push.base !== last) throw new Error("patch for another page");
        apply(push);
        last = push.seq;
      } catch (err) {
        // A fresh stream (no Last-Event-ID) starts with the whole page.
        events.close();
        last = null;
        seq = -1;
        listen();
      }
    };
    events.onopen = function () { say(""); };
    events.onerror = function () {
      say(events.readyState === 2 ? "Disconnected from the server: reload the page." : "Reconnecting…");
    };
  }
  listen();
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
