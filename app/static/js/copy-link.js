// "Copy" buttons of the link screen (app/templates/links/link.html): served from our origin,
// so the page needs no inline script. A button names its field in data-copy-target.
(function () {
  "use strict";

  function announce(button, text) {
    var label = button.querySelector("span") || button;
    var original = label.textContent;
    label.textContent = text;
    window.setTimeout(function () { label.textContent = original; }, 2000);
  }

  function legacyCopy(field) {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    var copied = button.getAttribute("data-copied-label") || "OK";
    var failed = button.getAttribute("data-failed-label") || "";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { announce(button, copied); },
        function () { announce(button, legacyCopy(field) ? copied : failed); }
      );
    } else {
      announce(button, legacyCopy(field) ? copied : failed);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () { copy(button); });
    });
  });
})();
