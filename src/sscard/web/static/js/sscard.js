// Shared page behaviour: send the CSRF token with every same-site write made by scripts.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  window.sscard = {
    csrfToken: token,
    api: function (method, url, body) {
      var init = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": token } };
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(url, init).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      });
    }
  };
  // Bars take their width from data-bar (a percentage): no inline styles, so the
  // Content-Security-Policy needs no 'unsafe-inline'.
  var bars = document.querySelectorAll("[data-bar]");
  for (var i = 0; i < bars.length; i++) {
    bars[i].style.width = bars[i].getAttribute("data-bar") + "%";
  }
})();
