// Runs before the page paints (a blocking script, not inline: the CSP allows none), so a
// chosen theme never flashes the other one. No choice saved: the system's theme.
(function () {
  try {
    var theme = localStorage.getItem("pixelsmith-theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) { /* storage blocked: follow the system */ }
})();
