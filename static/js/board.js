// Big-screen wall chart: fetch the board fragment every minute and swap it in place,
// so the display never flashes a blank page. A failed fetch keeps the last board and
// marks it stale; the next tick tries again. A keyboard user's focus stays on the same
// link (found again by its address, else by its place) instead of falling to the page.
// The sections named in data-rotate share one place and take turns every
// data-rotate-seconds; the pause button (aria-pressed) stops and restarts the turning.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !board.dataset.liveUrl) {
    return;
  }
  var seconds = parseInt(board.dataset.refreshSeconds, 10) || 60;
  var FOCUSABLE = "a[href], button, [tabindex]";

  function focusedPlace() {
    var active = document.activeElement;
    if (!active || active === board || !board.contains(active)) {
      return null;
    }
    var all = Array.prototype.slice.call(board.querySelectorAll(FOCUSABLE));
    return { href: active.getAttribute("href"), index: all.indexOf(active) };
  }

  function restoreFocus(place) {
    if (!place) {
      return;
    }
    var all = board.querySelectorAll(FOCUSABLE);
    var same = Array.prototype.filter.call(all, function (el) {
      return place.href && el.getAttribute("href") === place.href;
    });
    var atPlace = all[Math.min(place.index, all.length - 1)];
    var target = same.indexOf(atPlace) >= 0 ? atPlace : same[0] || atPlace;
    if (target) {
      target.focus({ preventScroll: true });
    }
  }

  var rotating = (board.dataset.rotate || "").split(" ").filter(Boolean);
  var rotateSeconds = parseInt(board.dataset.rotateSeconds, 10) || 0;
  var pause = document.getElementById("rotate-pause");
  var shown = 0;
  var turner = null;

  function panels() {
    return rotating
      .map(function (id) { return document.getElementById(id); })
      .filter(Boolean)
      .map(function (heading) { return heading.closest("section"); });
  }

  function showPanel() {
    var all = panels();
    if (!all.length) {
      return;
    }
    shown = shown % all.length;
    all.forEach(function (section, index) {
      section.classList.add("screen-panel");
      section.hidden = index !== shown;
    });
  }

  function turn() {
    shown += 1;
    showPanel();
  }

  function setPaused(paused) {
    pause.setAttribute("aria-pressed", paused ? "true" : "false");
    window.clearInterval(turner);
    turner = paused ? null : window.setInterval(turn, rotateSeconds * 1000);
  }

  showPanel();
  if (pause && rotateSeconds > 0 && panels().length > 1) {
    pause.closest(".screen-rotation").hidden = false;
    pause.addEventListener("click", function () {
      setPaused(pause.getAttribute("aria-pressed") !== "true");
    });
    setPaused(false);
  }

  function refresh() {
    fetch(board.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok || response.redirected) {
          throw new Error("board refresh failed: " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var scrollY = window.scrollY;
        var place = focusedPlace();
        board.innerHTML = html;
        board.classList.remove("board-stale");
        showPanel();
        restoreFocus(place);
        window.scrollTo(0, scrollY);
      })
      .catch(function () {
        board.classList.add("board-stale");
      });
  }

  window.setInterval(refresh, seconds * 1000);
})();
