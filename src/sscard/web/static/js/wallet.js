// The wallet's dynamic code: a countdown, a new code a few seconds before the shown one
// expires, business types, a manual refresh and the family member switcher.
(function () {
  "use strict";
  var LEAD_SECONDS = 5;
  var RETRY_SECONDS = 10;
  var PAYMENT = 2;
  var panel = document.getElementById("qr-panel");
  var family = document.getElementById("family");
  if (!panel) { return; }

  var box = document.getElementById("qr-box");
  var countdown = document.getElementById("qr-countdown");
  var count = document.getElementById("qr-count");
  var progress = document.getElementById("qr-progress");
  var errorLine = document.getElementById("qr-error");
  var proxyLine = document.getElementById("qr-proxy");
  var memberName = document.getElementById("qr-member");
  var tabs = panel.querySelectorAll(".w-tab");

  var state = {
    business: Number(panel.dataset.business) || 1,
    member: "",
    ttl: Number(panel.dataset.ttl) || 60,
    deadline: 0,
    busy: false,
    retryAt: 0
  };

  function setDeadline(seconds) {
    state.deadline = Date.now() + seconds * 1000;
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function show(data) {
    box.innerHTML = data.svg;
    box.classList.remove("expired");
    panel.dataset.code = data.code;
    panel.dataset.business = String(data.business);
    state.ttl = data.ttl_seconds || state.ttl;
    setDeadline(data.expires_in);
    showError("");
    tick();
  }

  function refresh() {
    if (state.busy) { return; }
    state.busy = true;
    var body = { business: state.business };
    var url = "/wallet/codes";
    if (state.member) { url = "/wallet/family/" + encodeURIComponent(state.member) + "/codes"; }
    window.sscard.api("POST", url, body).then(function (answer) {
      state.busy = false;
      if (answer.ok) { show(answer.data); return; }
      if (answer.status === 401) { window.location.assign("/wallet/login"); return; }
      var code = answer.data && answer.data.error;
      if (!state.member && (code === "card_suspended" || code === "card_revoked")) {
        window.location.reload();
        return;
      }
      state.retryAt = Date.now() + RETRY_SECONDS * 1000;
      showError((answer.data && answer.data.detail) || "二维码获取失败，请稍后重试");
    }, function () {
      state.busy = false;
      state.retryAt = Date.now() + RETRY_SECONDS * 1000;
      showError("网络连接失败，正在重试……");
    });
  }

  function tick() {
    var left = Math.max(0, Math.ceil((state.deadline - Date.now()) / 1000));
    countdown.textContent = String(left);
    progress.style.width = Math.min(100, (100 * left) / state.ttl) + "%";
    if (left === 0) {
      box.classList.add("expired");
      count.classList.add("expired");
    } else {
      count.classList.remove("expired");
    }
    if (left <= LEAD_SECONDS && !state.busy && Date.now() >= state.retryAt) {
      refresh();
    }
  }

  function choose(business) {
    state.business = business;
    tabs.forEach(function (tab) {
      var on = Number(tab.dataset.business) === business;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-pressed", on ? "true" : "false");
    });
    state.retryAt = 0;
    refresh();
  }

  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { choose(Number(tab.dataset.business)); });
  });
  document.getElementById("qr-refresh").addEventListener("click", function () {
    state.retryAt = 0;
    refresh();
  });

  function pickMember(button) {
    family.querySelectorAll(".w-member").forEach(function (b) {
      var on = b === button;
      b.classList.toggle("active", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    state.member = button.dataset.member || "";
    proxyLine.hidden = !state.member;
    memberName.textContent = state.member ? button.textContent : "";
    // A family member's code is never for payment: that tab is off while one is shown.
    tabs.forEach(function (tab) {
      tab.disabled = Boolean(state.member) && Number(tab.dataset.business) === PAYMENT;
    });
    if (state.member && state.business === PAYMENT) {
      choose(1);
      return;
    }
    state.retryAt = 0;
    refresh();
  }

  function loadFamily() {
    if (!family) { return; }
    fetch("/wallet/family", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        var members = (data && data.members) || [];
        if (!members.length) { return; }
        members.forEach(function (member) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "w-member";
          button.dataset.member = String(member.id);
          button.setAttribute("aria-pressed", "false");
          button.textContent = member.label;
          family.appendChild(button);
        });
        family.querySelectorAll(".w-member").forEach(function (button) {
          button.addEventListener("click", function () { pickMember(button); });
        });
        family.hidden = false;
      })
      .catch(function () { /* no family service: the switcher stays hidden */ });
  }

  setDeadline(Number(panel.dataset.expiresIn) || 0);
  tick();
  window.setInterval(tick, 250);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { tick(); }
  });
  loadFamily();
})();
