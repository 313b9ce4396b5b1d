// Upload forms (data-file-exts on the form): check the chosen file before it is sent. A
// convenience only: the server checks the file again and the form works without this.
// The form names the allowed extensions and the words for each refusal; the field
// #f-file and the message #file-check are the form's own.
(function () {
  "use strict";

  document.querySelectorAll("form[data-file-exts]").forEach(function (form) {
    var input = form.querySelector("#f-file");
    var message = form.querySelector("#file-check");
    var words = form.dataset;
    var extension = new RegExp("\\.(" + words.fileExts.split(",").join("|") + ")$", "i");
    var refuse = function (text) {
      message.textContent = text;
      message.hidden = !text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return !text;
    };
    var check = function () {
      var file = input.files && input.files[0];
      if (!file) { return refuse(words.fileMissing); }
      if (!extension.test(file.name)) { return refuse(words.fileWrongType); }
      if (file.size === 0 && words.fileEmpty) { return refuse(words.fileEmpty); }
      if (file.size > Number(words.maxBytes)) { return refuse(words.fileTooLarge); }
      return refuse("");
    };
    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); }
    });
  });
})();
