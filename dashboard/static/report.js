// The report page's print button, and while a report is being made, asking every few seconds
// whether it is done (files, not inline: the dashboard's CSP forbids inline scripts). Without
// scripts, the page's link fetches the report by hand.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("print");
  if (button) button.addEventListener("click", function () { window.print(); });
  var wait = document.getElementById("report-wait");
  if (!wait) return;
  function ask() {
    fetch(wait.dataset.statusUrl, {cache: "no-store", credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (state) {
        if (state.done) window.location.replace(wait.dataset.doneUrl);
        else window.setTimeout(ask, 2000);
      })
      .catch(function () { window.setTimeout(ask, 5000); });
  }
  window.setTimeout(ask, 2000);
});
