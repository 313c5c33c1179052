// Eventide's only script: progressive enhancement on top of htmx. Everything works without it.
(function () {
  "use strict";

  // WAI-ARIA grid pattern for the month view: one tab stop, arrows move by day and week,
  // Home/End to the week's ends, PageUp/PageDown to the previous/next month, Enter opens the
  // day, N adds an event on it.
  function initGrid(root) {
    var grid = root.querySelector ? root.querySelector(".month-grid") : null;
    if (!grid) return;
    grid.querySelectorAll("td a").forEach(function (a) { a.tabIndex = -1; });
  }

  function cells(grid) { return Array.prototype.slice.call(grid.querySelectorAll("td[role=gridcell]")); }

  function focusCell(grid, cell) {
    cells(grid).forEach(function (c) { c.tabIndex = -1; });
    cell.tabIndex = 0;
    cell.focus();
  }

  document.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest(".month-grid td[role=gridcell]");
    if (!cell) return;
    var grid = cell.closest(".month-grid");
    var all = cells(grid);
    var index = all.indexOf(cell);
    var target = null;
    switch (event.key) {
      case "ArrowLeft": target = all[index - 1]; break;
      case "ArrowRight": target = all[index + 1]; break;
      case "ArrowUp": target = all[index - 7]; break;
      case "ArrowDown": target = all[index + 7]; break;
      case "Home": target = all[index - (index % 7)]; break;
      case "End": target = all[index - (index % 7) + 6]; break;
      case "PageUp":
      case "PageDown":
        var link = document.getElementById(event.key === "PageUp" ? "cal-prev" : "cal-next");
        if (link) { event.preventDefault(); link.click(); }
        return;
      case "Enter":
      case " ":
        var day = cell.querySelector("a.day-number");
        if (day) { event.preventDefault(); window.location.href = day.href; }
        return;
      case "n":
      case "N":
        // A new event on this day, coming back to this month once it is saved.
        event.preventDefault();
        window.location.href = "/events/new?date=" + cell.dataset.date + "&next=" + encodeURIComponent(window.location.pathname);
        return;
      default: return;
    }
    event.preventDefault();
    if (target) focusCell(grid, target);
  });

  // After an htmx navigation the pressed control is gone: put focus back on its replacement
  // (same id), or on the new period's heading, so keyboard users keep their place.
  var lastFocusedId = null;
  document.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    lastFocusedId = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // With an outerHTML swap the event's target is the element that was replaced.
    if (!event.detail.target || event.detail.target.id !== "calendar") return;
    var target = document.getElementById("calendar");
    if (!target) return;
    initGrid(target);
    var again = lastFocusedId && document.getElementById(lastFocusedId);
    var grid = target.querySelector(".month-grid");
    if (grid && lastFocusedId === null) {
      var active = grid.querySelector("td[tabindex='0']");
      if (active) { active.focus(); return; }
    }
    (again || target.querySelector("#calendar-title")).focus();
  });

  // The event form: date inputs when "all day" is ticked, date-time inputs otherwise.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-toggles-dates]")) return;
    var form = event.target.form;
    ["start", "end"].forEach(function (name) {
      var input = form.elements[name];
      var value = input.value;
      if (event.target.checked) {
        input.type = "date";
        input.value = value.slice(0, 10);
      } else {
        input.type = "datetime-local";
        input.value = value.length === 10 ? value + (name === "start" ? "T09:00" : "T10:00") : value;
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () { initGrid(document); });
})();
