// Make server-rendered feedback reach screen-reader users on page load:
// - a live region's content that is already there at load is often not read, so the flash
//   messages are put back into their region a moment after load;
// - a form's error summary takes the focus, so it is read first and Tab continues from it.
(function () {
  "use strict";

  function refill(region) {
    var messages = Array.prototype.slice.call(region.children);
    if (!messages.length) {
      return;
    }
    region.replaceChildren();
    window.setTimeout(function () {
      messages.forEach(function (message) {
        region.appendChild(message);
      });
    }, 150);
  }

  function start() {
    var summary = document.getElementById("error-summary");
    if (summary) {
      summary.focus();
    }
    var region = document.querySelector(".flashes[aria-live]");
    if (region) {
      refill(region);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
