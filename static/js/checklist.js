// The on-site checklist: each answer is PUT on its own; answers that could not be sent are kept in
// localStorage and sent again when the connection returns (or the page is opened again).
(function () {
  "use strict";
  var list = document.querySelector(".checklist[data-exercise]");
  if (!list || !window.fetch) return;
  var key = "wallchart-exercise-" + list.dataset.exercise;
  var status = document.getElementById("checklist-status");
  var token = document.querySelector("input[name=csrf_token]");

  function pending() {
    try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { return {}; }
  }
  function keep(all) {
    try {
      if (Object.keys(all).length) localStorage.setItem(key, JSON.stringify(all));
      else localStorage.removeItem(key);
    } catch (e) { /* storage full or off: the plain form still works */ }
  }
  function formFor(id) { return list.querySelector('form[data-check="' + id + '"]'); }
  function answerOf(form) {
    var checked = form.querySelector("input[name=result]:checked");
    return { result: checked ? checked.value : "", value: form.elements.value.value, note: form.elements.note.value };
  }
  function show(form, state, text) {
    var span = form.querySelector(".check-state");
    span.className = "check-state " + state;
    span.textContent = text || span.dataset[state + "Text"] || "";
  }
  function summary() {
    var n = Object.keys(pending()).length;
    if (!status) return;
    if (n) status.textContent = status.dataset.pendingText.replace("{n}", n);
    else status.textContent = "";
  }
  function send(id, answer) {
    var form = formFor(id);
    return fetch(form.action, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(answer)
    }).then(function (response) {
      return response.json().then(function (body) {
        var all = pending();
        if (response.ok) {
          if (JSON.stringify(all[id]) === JSON.stringify(answer)) delete all[id];
          keep(all);
          var card = form.closest(".check-card");
          card.className = "check-card" + (body.result ? " answered result-" + body.result : "");
          if (body.result) {
            var radio = form.querySelector('input[name=result][value="' + body.result + '"]');
            if (radio) radio.checked = true;
          }
          show(form, "saved");
        } else if (response.status >= 400 && response.status < 500) {
          // The server refused it: keeping and resending would not help; say why.
          delete all[id];
          keep(all);
          var message = body.error ? Object.values(body.error.fields || {}).join(" ") || body.error.message : "";
          show(form, "failed", form.querySelector(".check-state").dataset.errorText + " " + message);
        }
        summary();
      });
    }).catch(function () {
      show(form, "queued");
      summary();
    });
  }
  function save(form) {
    var id = form.dataset.check;
    var all = pending();
    all[id] = answerOf(form);
    keep(all);
    show(form, "queued");
    summary();
    return send(id, all[id]);
  }
  function flush() {
    var all = pending();
    Object.keys(all).forEach(function (id) { if (formFor(id)) send(id, all[id]); });
  }

  list.addEventListener("submit", function (event) {
    var form = event.target.closest("form.check-form");
    if (!form) return;
    var photos = form.querySelector("input[type=file]");
    if (photos && photos.files.length) return; // photos go with the plain form post
    event.preventDefault();
    save(form);
  });
  list.addEventListener("change", function (event) {
    var form = event.target.closest("form.check-form");
    if (form && event.target.type !== "file") save(form);
  });
  window.addEventListener("online", flush);
  // Back on the page with answers from an earlier visit that never left the device.
  var all = pending();
  Object.keys(all).forEach(function (id) {
    var form = formFor(id);
    if (!form) return;
    var answer = all[id];
    form.querySelectorAll("input[name=result]").forEach(function (r) { r.checked = r.value === answer.result; });
    form.elements.value.value = answer.value;
    form.elements.note.value = answer.note;
    show(form, "queued");
  });
  summary();
  flush();
})();
