// The wallet's payment code: a countdown, and a new code a few seconds before the shown
// one expires (the 刷新付款码 link reloads the page where scripts do not run).
(function () {
  "use strict";
  var LEAD_SECONDS = 3;
  var RETRY_SECONDS = 10;
  var panel = document.getElementById("pay-panel");
  if (!panel) { return; }
  var box = document.getElementById("pay-qr");
  var digits = document.getElementById("pay-digits");
  var countdown = document.getElementById("pay-countdown");
  var errorLine = document.getElementById("pay-error");
  var deadline = Date.now() + (Number(panel.dataset.expiresIn) || 0) * 1000;
  var busy = false;
  var retryAt = 0;

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function refresh() {
    busy = true;
    window.sscard.api("POST", "/wallet/pay/code", {}).then(function (answer) {
      busy = false;
      if (answer.ok) {
        box.innerHTML = answer.data.svg;
        box.classList.remove("expired");
        digits.textContent = answer.data.grouped;
        deadline = Date.now() + answer.data.expires_in * 1000;
        showError("");
        return;
      }
      if (answer.status === 401) { window.location.assign("/wallet/login"); return; }
      if (answer.status === 409) { window.location.reload(); return; }
      retryAt = Date.now() + RETRY_SECONDS * 1000;
      showError((answer.data && answer.data.detail) || "付款码获取失败，请稍后重试");
    }, function () {
      busy = false;
      retryAt = Date.now() + RETRY_SECONDS * 1000;
      showError("网络连接失败，正在重试……");
    });
  }

  function tick() {
    var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    countdown.textContent = String(left);
    box.classList.toggle("expired", left === 0);
    if (left <= LEAD_SECONDS && !busy && Date.now() >= retryAt) { refresh(); }
  }

  window.setInterval(tick, 1000);
})();
