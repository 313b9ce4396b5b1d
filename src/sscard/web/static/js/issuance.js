// Card issuance pages: conveniences only; every rule is checked again by the server.
(function () {
  "use strict";

  // A form is sent once: a second click while the page loads does not submit it again.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });

  // Scanning: a barcode scanner types the code and Enter, which submits the form. Selecting
  // the text on focus lets the next scan replace the last code.
  var scan = document.querySelector("input[data-scan]");
  if (scan) {
    scan.addEventListener("focus", function () { scan.select(); });
    var invalid = document.querySelector("[aria-invalid=true]");
    var destination = document.getElementById("f-to_place");
    if (invalid) {
      invalid.focus();
    } else if (destination && !document.getElementById("flash")) {
      destination.focus();
    } else {
      scan.focus();
    }
  }

  // PINs are digits only.
  document.querySelectorAll("input[inputmode=numeric]").forEach(function (input) {
    input.addEventListener("input", function () {
      var digits = input.value.replace(/\D/g, "");
      if (digits !== input.value) { input.value = digits; }
    });
  });

  // "Back" links go back when there is somewhere to go back to.
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
