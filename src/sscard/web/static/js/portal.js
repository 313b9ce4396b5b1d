// The demo portal: long-poll the scan-login ticket and show who logged in.
(function () {
  "use strict";
  var status = document.getElementById("login-status");
  var refresh = document.getElementById("login-refresh");
  refresh.addEventListener("click", function () { location.reload(); });
  function finish(text) {
    status.textContent = text;
    document.getElementById("login-qr").classList.add("expired");
    refresh.hidden = false;
  }
  function poll() {
    fetch("/portal-demo/status?wait=20", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status === "pending") { poll(); return; }
        if (data.status === "confirmed") {
          document.getElementById("login-name").textContent = data.name_masked || "";
          document.getElementById("login-pending").hidden = true;
          document.getElementById("login-done").hidden = false;
          return;
        }
        if (data.status === "refused") { finish("您已在手机上拒绝登录。"); return; }
        if (data.status === "used") { finish("该二维码已使用，请刷新。"); return; }
        finish("二维码已过期，请刷新。");
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
