// The wallet's scan screen: where the browser allows the camera, its frames go to the
// server until one holds a QR code, whose text is then submitted like a pasted one.
(function () {
  "use strict";
  var FRAME_MS = 700;
  var MAX_SIDE = 1280;
  var form = document.getElementById("scan-form");
  var camera = document.getElementById("camera");
  var canUseCamera = window.isSecureContext && navigator.mediaDevices &&
    typeof navigator.mediaDevices.getUserMedia === "function";
  if (!form || !camera || !canUseCamera) { return; }
  camera.hidden = false;
  var view = document.getElementById("camera-view");
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var startButton = document.getElementById("camera-start");
  var textInput = document.getElementById("s-text");
  var stream = null;
  var timer = null;
  var sending = false;

  function stop() {
    if (timer) { window.clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    view.hidden = true;
    startButton.hidden = false;
  }

  function snapshot() {
    var ratio = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * ratio);
    canvas.height = Math.round(video.videoHeight * ratio);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", 0.9); });
  }

  function send(blob) {
    var data = new FormData();
    data.append("image", blob, "frame.jpg");
    return fetch("/wallet/scan/decode", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": window.sscard.csrfToken },
      body: data
    }).then(function (response) { return response.ok ? response.json() : { found: false }; });
  }

  function frame() {
    if (sending || !video.videoWidth) { return; }
    sending = true;
    snapshot().then(function (blob) {
      return blob ? send(blob) : { found: false };
    }).then(function (answer) {
      sending = false;
      if (answer.found) {
        stop();
        textInput.value = answer.text;
        status.textContent = "已识别，正在打开……";
        form.submit();
      }
    }, function () {
      sending = false;
      status.textContent = "网络连接失败，正在重试……";
    });
  }

  startButton.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.play();
        view.hidden = false;
        startButton.hidden = true;
        status.textContent = "将二维码对准取景框……";
        timer = window.setInterval(frame, FRAME_MS);
      })
      .catch(function () {
        status.textContent = "无法打开摄像头：请允许浏览器使用摄像头，或改用上传图片。";
        view.hidden = false;
      });
  });
  document.getElementById("camera-stop").addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
})();
