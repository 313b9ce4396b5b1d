// Registry pages: conveniences only; every rule is checked again by the server.
(function () {
  "use strict";

  function optionLabel(list, value) {
    if (!list || !value) { return ""; }
    var options = list.options;
    for (var i = 0; i < options.length; i++) {
      if (options[i].value === value) { return options[i].label || options[i].textContent; }
    }
    return "";
  }

  function sibling(input, selector) {
    return input.parentNode.querySelector(selector);
  }

  // Region and employer codes: show the name of the code typed or picked from the list.
  function showNameOf(input, selector) {
    var target = sibling(input, selector);
    if (!target) { return; }
    var update = function () {
      var name = optionLabel(input.list, input.value.trim());
      if (name || selector === ".region-name") { target.textContent = name; }
    };
    input.addEventListener("input", update);
    update();
  }

  document.querySelectorAll("input[data-region-name]").forEach(function (input) {
    showNameOf(input, ".region-name");
  });

  // Employers: typing part of a name asks the API for matching employers of the region.
  document.querySelectorAll("input[data-employer-picker]").forEach(function (input) {
    var timer = null;
    var list = input.list;
    showNameOf(input, ".employer-name");
    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (text.length < 2 || /^\d+$/.test(text) || !window.sscard || !list) { return; }
      timer = setTimeout(function () {
        var url = "/api/v1/employers?page_size=20&name=" + encodeURIComponent(text);
        window.sscard.api("GET", url).then(function (answer) {
          if (!answer.ok || !Array.isArray(answer.data)) { return; }
          list.innerHTML = "";
          answer.data.forEach(function (employer) {
            var option = document.createElement("option");
            option.value = String(employer.id);
            option.label = employer.name + "（" + employer.credit_code + "）";
            option.textContent = option.label;
            list.appendChild(option);
          });
        });
      }, 250);
    });
  });

  // A citizen ID number carries the birth date and gender: fill them in when still empty.
  var idInput = document.getElementById("f-id_number");
  var birthInput = document.getElementById("f-birth_date");
  var genderSelect = document.getElementById("f-gender");
  var documentSelect = document.getElementById("f-document_type");
  if (idInput && birthInput && genderSelect && document.getElementById("person-form")) {
    idInput.addEventListener("change", function () {
      var number = idInput.value.trim().toUpperCase();
      var kind = documentSelect ? documentSelect.value : "01";
      if (["01", "03", "04"].indexOf(kind) < 0 || !/^\d{17}[\dX]$/.test(number)) { return; }
      var born = number.substr(6, 4) + "-" + number.substr(10, 2) + "-" + number.substr(12, 2);
      if (!birthInput.value && !isNaN(Date.parse(born))) { birthInput.value = born; }
      if (!genderSelect.value) { genderSelect.value = parseInt(number.charAt(16), 10) % 2 ? "1" : "2"; }
      // The issuing region is often the household region; offer it when it is a county here.
      var household = document.getElementById("f-household_region_code");
      if (household && !household.value && optionLabel(household.list, number.substr(0, 6))) {
        household.value = number.substr(0, 6);
        household.dispatchEvent(new Event("input"));
      }
    });
  }

  // Photo: say at once when the file is clearly too small or too large.
  var photoForm = document.getElementById("photo-form");
  if (photoForm) {
    var file = photoForm.querySelector("input[type=file]");
    var note = document.createElement("p");
    note.className = "file-check";
    note.hidden = true;
    file.parentNode.appendChild(note);
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      var max = parseInt(photoForm.getAttribute("data-max-bytes"), 10);
      var min = parseInt(photoForm.getAttribute("data-min-bytes"), 10);
      note.hidden = true;
      if (!chosen) { return; }
      if (chosen.size > max) {
        note.textContent = "照片文件过大（" + Math.round(chosen.size / 1024) + " KB），应不大于 " + Math.round(max / 1024) + " KB";
        note.hidden = false;
      } else if (chosen.size < min) {
        note.textContent = "照片文件过小（" + Math.round(chosen.size / 1024) + " KB），应不小于 " + Math.round(min / 1024) + " KB";
        note.hidden = false;
      }
    });
  }

  // "Back" links go back when there is somewhere to go back to.
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
