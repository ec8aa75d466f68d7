// The list filters fold away on a phone; on a wider screen they start open, as a bar above the list.
(function () {
  if (!window.matchMedia("(min-width: 48rem)").matches) return;
  document.querySelectorAll("details.filters-disclosure").forEach(function (details) {
    details.open = true;
  });
})();
