// Person import page: follows a running job (a convenience: the page works without it; the
// file is checked before upload by file_check.js).
(function () {
  "use strict";

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
