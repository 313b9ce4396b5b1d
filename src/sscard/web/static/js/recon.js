// Reconciliation page: checks the chosen daily file before upload (a convenience: the server
// checks it again, and the form works without this script).
(function () {
  "use strict";

  var form = document.getElementById("recon-upload-form");
  if (!form) { return; }
  var input = document.getElementById("f-file");
  var message = document.getElementById("file-check");
  var refuse = function (text) {
    message.textContent = text;
    message.hidden = !text;
    input.setAttribute("aria-invalid", text ? "true" : "false");
    return !text;
  };
  var check = function () {
    var file = input.files && input.files[0];
    if (!file) { return refuse("请选择要导入的对账文件（.txt 或 .csv）"); }
    if (!/\.(txt|csv)$/i.test(file.name)) {
      return refuse("只能导入银行或收单机构的日终对账文件（扩展名 .txt 或 .csv）");
    }
    if (file.size === 0) {
      return refuse("文件是空的（0 字节），请重新选择银行或收单机构发来的对账文件");
    }
    if (file.size > Number(form.dataset.maxBytes)) {
      return refuse("文件过大：对账文件不能超过 " + form.dataset.maxText + "，请使用命令行导入");
    }
    return refuse("");
  };
  input.addEventListener("change", check);
  form.addEventListener("submit", function (event) {
    if (!check()) { event.preventDefault(); }
  });
})();
