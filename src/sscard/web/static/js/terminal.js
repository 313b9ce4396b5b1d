// The terminal page: large photos are scaled down before upload, and where the browser
// allows it the camera's frames go to the server until one holds a QR code.
(function () {
  "use strict";
  var MAX_UPLOAD = 1800 * 1024;
  var MAX_SIDE = 1600;
  var FRAME_MS = 700;
  var form = document.getElementById("scan-form");
  if (!form) { return; }
  var codeInput = document.getElementById("t-code");
  var fileInput = document.getElementById("t-image");

  function scaled(source, width, height, type) {
    var ratio = Math.min(1, MAX_SIDE / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, type || "image/jpeg", 0.9); });
  }

  // A phone photo is often larger than the upload limit: send a smaller copy instead.
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file || file.size <= MAX_UPLOAD || !window.createImageBitmap || !window.DataTransfer) { return; }
    createImageBitmap(file).then(function (bitmap) {
      return scaled(bitmap, bitmap.width, bitmap.height);
    }).then(function (blob) {
      if (!blob) { return; }
      var transfer = new DataTransfer();
      transfer.items.add(new File([blob], "scan.jpg", { type: "image/jpeg" }));
      fileInput.files = transfer.files;
    }).catch(function () { /* the server answers with its own message */ });
  });

  // ---- camera ----
  var camera = document.getElementById("camera");
  var canUseCamera = window.isSecureContext && navigator.mediaDevices &&
    typeof navigator.mediaDevices.getUserMedia === "function";
  if (!camera || !canUseCamera) { return; }
  camera.hidden = false;
  var view = document.getElementById("camera-view");
  var video = document.getElementById("camera-video");
  var status = document.getElementById("camera-status");
  var startButton = document.getElementById("camera-start");
  var stream = null;
  var timer = null;
  var sending = false;

  function stop() {
    if (timer) { window.clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    view.hidden = true;
    startButton.hidden = false;
  }

  function send(blob) {
    var data = new FormData();
    data.append("image", blob, "frame.jpg");
    return fetch("/terminal/decode", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": window.sscard.csrfToken },
      body: data
    }).then(function (response) { return response.ok ? response.json() : { found: false }; });
  }

  function frame() {
    if (sending || !video.videoWidth) { return; }
    sending = true;
    scaled(video, video.videoWidth, video.videoHeight).then(function (blob) {
      return blob ? send(blob) : { found: false };
    }).then(function (answer) {
      sending = false;
      if (answer.found) {
        stop();
        codeInput.value = answer.code;
        status.textContent = "已识别，正在核验……";
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
