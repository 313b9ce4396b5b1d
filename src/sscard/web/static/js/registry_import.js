// Person import page: checks the chosen file before upload and follows a running job.
// Conveniences only: the server checks the file again and the page works without them.
(function () {
  "use strict";

  var form = document.getElementById("import-form");
  if (form) {
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
      if (!file) { return refuse("请选择要导入的 CSV 或 XLSX 文件"); }
      if (!/\.(csv|xlsx)$/i.test(file.name)) {
        return refuse("只能导入 CSV 或 XLSX 文件（扩展名 .csv 或 .xlsx）");
      }
      if (file.size > Number(form.dataset.maxBytes)) {
        return refuse("文件过大：不能超过 " + form.dataset.maxText + "，请拆分后分批导入");
      }
      return refuse("");
    };
    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) { event.preventDefault(); }
    });
  }

  var job = document.getElementById("import-job");
  if (!job || job.dataset.status === "completed" || job.dataset.status === "failed") { return; }
  var badges = { completed: "badge ok", failed: "badge bad" };

  function show(data) {
    job.querySelectorAll("[data-count]").forEach(function (node) {
      var value = data[node.dataset.count];
      node.textContent = value === null || value === undefined ? "—" : String(value);
    });
    var status = document.getElementById("job-status");
    status.textContent = data.status_name;
    status.className = badges[data.status] || "badge warn";
    var bar = document.getElementById("job-progress");
    bar.value = data.percent;
    bar.textContent = data.percent + "%";
    document.getElementById("job-error").hidden = !data.error;
    document.getElementById("job-rejects").hidden = !data.rejects_url;
    document.getElementById("job-running").hidden = data.finished;
    job.dataset.status = data.status;
  }

  function poll() {
    fetch(job.dataset.progressUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (data) { show(data); }
        if (!data || !data.finished) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
