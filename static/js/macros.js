// The macros menu of the staff case pages: insert a macro's text into its form's text area
// where the cursor is, instead of reloading the page with the form pre-filled (the link's
// behaviour without JavaScript). The text stays editable before it is sent.
(function () {
  "use strict";

  function insert(field, text) {
    var start = field.selectionStart;
    var end = field.selectionEnd;
    if (typeof start !== "number" || field.value === "") {
      field.value = field.value ? field.value + "\n" + text : text;
    } else {
      field.value = field.value.slice(0, start) + text + field.value.slice(end);
      field.selectionStart = field.selectionEnd = start + text.length;
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-macro-target]");
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("data-macro-target"));
    if (!field) {
      return; // the form is not on the page: follow the link
    }
    event.preventDefault();
    insert(field, link.getAttribute("data-macro-text"));
  });
})();
