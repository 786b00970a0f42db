// One-click insertion of a pre-approved response template into the draft being reviewed.
(function () {
  var button = document.getElementById("insert-template");
  if (!button) return;
  button.addEventListener("click", function () {
    var index = Number(document.getElementById("template-choice").value);
    var template = document.querySelectorAll("template.response-template")[index];
    var area = document.getElementById("draft-text");
    if (template && area) area.value = template.innerHTML.replace(/&amp;/g, "&").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&#x27;/g, "'").replace(/&quot;/g, '"');
  });
})();
