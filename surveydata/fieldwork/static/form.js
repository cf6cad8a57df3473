// Optional: the form works without it. Posts the viewport width (for the device class
// phone / tablet / desktop in the paradata; nothing else about the device is collected).
document.addEventListener("DOMContentLoaded", function () {
  var w = String(Math.round(window.innerWidth || 0));
  document.querySelectorAll("input.js-vw").forEach(function (el) { el.value = w; });
  var summary = document.querySelector(".summary");
  if (summary) { summary.focus(); }
});
