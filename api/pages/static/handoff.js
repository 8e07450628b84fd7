// The score as the AE types: the form goes to the pure preview endpoint (no update is sent until Save).
(function () {
  "use strict";
  var form = document.getElementById("document-form");
  if (!form || !window.fetch) { return; }
  var timer = null;
  var sequence = 0;
  var note = document.getElementById("preview-note");

  function show(result) {
    var score = document.querySelector("[data-score]");
    var tier = document.querySelector("[data-tier]");
    score.textContent = result.score.toFixed(1);
    tier.textContent = result.tier;
    tier.className = "tier tier-" + result.tier;
    Object.keys(result.fields).forEach(function (name) {
      var field = result.fields[name];
      var status = document.querySelector('[data-field-status="' + name + '"]');
      var reason = document.querySelector('[data-field-reason="' + name + '"]');
      if (status) { status.textContent = field.word; status.className = "status status-" + field.word; }
      if (reason) { reason.textContent = field.reason; }
    });
    note.textContent = "Preview: " + result.score.toFixed(1) + ", " + result.tier + ". Save to send it to the handoff.";
  }

  function preview() {
    var mine = ++sequence;
    fetch(form.getAttribute("data-preview"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (result) { if (result && mine === sequence) { show(result); } })
      .catch(function () { /* the saved score stays; saving still works without the preview */ });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  });
})();
