// The report page's print button (a file, not inline: the dashboard's CSP forbids inline scripts).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
});
