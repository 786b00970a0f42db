// The review desk's keyboard and one-click inserts. Keys act only outside text fields
// (Esc leaves a field); Ctrl/Cmd+Enter in the draft sends it.
(function () {
  "use strict";
  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      (target.tagName === "INPUT" && target.type !== "checkbox" && target.type !== "submit"));
  }
  function click(id) { var el = document.getElementById(id); if (el) { el.click(); return true; } return false; }
  function go(id) { var el = document.getElementById(id); if (el && el.href) { window.location.href = el.href; return true; } return false; }

  // --- queue: j/k move, o/Enter open -------------------------------------------------------
  var links = Array.prototype.slice.call(document.querySelectorAll("#result_list a.review-link"));
  var current = -1;
  function select(index) {
    if (!links.length) return;
    current = Math.max(0, Math.min(links.length - 1, index));
    links.forEach(function (link, i) { link.closest("tr").classList.toggle("kb-current", i === current); });
    links[current].closest("tr").scrollIntoView({ block: "nearest" });
  }
  if (links.length) select(0);

  // --- review page: inserts ----------------------------------------------------------------
  var area = document.getElementById("draft-text") || document.getElementById("reply-text");
  function insert(text) {
    if (!area) return;
    var start = area.selectionStart, end = area.selectionEnd;
    if (typeof start !== "number" || document.activeElement !== area) { start = end = area.value.length; text = (area.value ? "\n\n" : "") + text; }
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
    area.selectionStart = area.selectionEnd = start + text.length;
  }
  document.querySelectorAll("button[data-insert]").forEach(function (button) {
    button.addEventListener("mousedown", function (event) { event.preventDefault(); }); // keep the caret
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-insert"));
      if (source) insert(source.content ? source.content.textContent : source.textContent);
    });
  });
  if (area) {
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); click("send-button") || click("reply-button"); }
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target)) return;
    var handled = false;
    if (links.length) {
      if (event.key === "j") { select(current + 1); handled = true; }
      else if (event.key === "k") { select(current - 1); handled = true; }
      else if ((event.key === "o" || event.key === "Enter" || event.key === "a") && current >= 0) { window.location.href = links[current].href; handled = true; }
    } else if (area && document.getElementById("send-button")) {
      if (event.key === "a") handled = click("send-button");
      else if (event.key === "e") { area.focus(); handled = true; }
      else if (event.key === "r") { var reason = document.getElementById("reject-reason"); if (reason) { reason.focus(); handled = true; } }
      else if (event.key === "g") { var instruction = document.getElementById("regenerate-instruction"); if (instruction) { instruction.focus(); handled = true; } }
      else if (event.key === "j") handled = go("next-draft");
      else if (event.key === "k") handled = go("prev-draft");
      else if (event.key === "u") handled = go("queue-link");
    }
    if (handled) event.preventDefault();
  });
  // Enter in the reason / instruction field triggers its own button, not the primary one.
  [["reject-reason", "reject-button"], ["regenerate-instruction", "regenerate-button"], ["note-text", "note-button"]].forEach(function (pair) {
    var field = document.getElementById(pair[0]);
    if (field) field.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); click(pair[1]); }
    });
  });
  // Never submit the same decision twice (double click, key repeat).
  document.querySelectorAll("form.review-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
    });
  });
})();
