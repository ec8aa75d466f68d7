// Big-screen wall chart: fetch the board fragment every minute and swap it in place,
// so the display never flashes a blank page. A failed fetch keeps the last board and
// marks it stale; the next tick tries again.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !board.dataset.liveUrl) {
    return;
  }
  var seconds = parseInt(board.dataset.refreshSeconds, 10) || 60;

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
        board.innerHTML = html;
        board.classList.remove("board-stale");
        window.scrollTo(0, scrollY);
      })
      .catch(function () {
        board.classList.add("board-stale");
      });
  }

  window.setInterval(refresh, seconds * 1000);
})();
