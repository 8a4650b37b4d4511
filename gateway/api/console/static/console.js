// govgate console: small progressive enhancements; every page works without this file.
// (No inline scripts anywhere: the Content-Security-Policy forbids them.)
(function () {
  "use strict";
  // A form with data-confirm asks before it is sent (revoke, refuse, withdraw …).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    }
  }, true);
})();
