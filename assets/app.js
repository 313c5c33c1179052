// Eventide's only script: progressive enhancement on top of htmx. Everything works without it:
// every link and form here has a page of its own, and the script only makes them quicker
// (a popover instead of the form, a drag instead of the edit page, shortcuts, an undo).
(function () {
  "use strict";

  // ---- Small helpers --------------------------------------------------------------------

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // A form POST as htmx sends it, so the server answers 204 + HX-Location (or 422 with the
  // form) instead of a redirect.
  function post(url, fields) {
    var body = new URLSearchParams(fields);
    body.set("csrf_token", csrf());
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "HX-Request": "true", "X-CSRF-Token": csrf() }
    });
  }

  // The first error message a 422 form carries, or a general one.
  function errorOf(response) {
    return response.text().then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var error = page.querySelector(".error:not([hidden]), .errors li, [role=alert]");
      return error && error.textContent.trim() ? error.textContent.trim() : "That did not work (" + response.status + ").";
    });
  }

  // The undo offer a response carries in HX-Trigger, if any.
  function undoOffer(response) {
    try {
      var trigger = JSON.parse(response.headers.get("HX-Trigger") || "{}");
      return trigger["eventide:undo"] || null;
    } catch (e) { return null; }
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]") !== null;
  }

  // Local wall times ("2026-12-07T09:00") shifted by minutes, as wall times: the server reads
  // them in the user's zone, exactly as the form's inputs.
  function shift(local, minutes) {
    var t = new Date(Date.UTC(+local.slice(0, 4), +local.slice(5, 7) - 1, +local.slice(8, 10),
      +local.slice(11, 13), +local.slice(14, 16)) + minutes * 60000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return t.getUTCFullYear() + "-" + two(t.getUTCMonth() + 1) + "-" + two(t.getUTCDate()) + "T" +
      two(t.getUTCHours()) + ":" + two(t.getUTCMinutes());
  }

  function minutesBetween(a, b) {
    function at(s) { return Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10), +s.slice(11, 13), +s.slice(14, 16)); }
    return Math.round((at(b) - at(a)) / 60000);
  }

  function quarter(date, q) {
    return shift(date + "T00:00", q * 15);
  }

  // ---- Refreshing the calendar, keeping the user's place ---------------------------------

  var pendingFocus = null;

  function refreshCalendar(focusSelector) {
    pendingFocus = focusSelector || null;
    var path = window.location.pathname + window.location.search;
    if (!document.getElementById("calendar") || !window.htmx) {
      window.location.reload();
      return Promise.resolve();
    }
    return window.htmx.ajax("GET", path, { source: document.body, target: "#calendar", swap: "outerHTML" });
  }

  // ---- Toasts: a message, and "Undo" for a few seconds after a move or a delete ----------

  function toast(message, token) {
    var region = document.getElementById("toasts");
    if (!region) return;
    region.textContent = "";
    var box = document.createElement("div");
    box.className = "toast";
    var text = document.createElement("span");
    text.textContent = message;
    box.appendChild(text);
    var timer = null;
    function close() { if (box.parentNode) box.parentNode.removeChild(box); clearTimeout(timer); }
    if (token) {
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "link undo";
      undo.textContent = "Undo";
      undo.addEventListener("click", function () {
        close();
        fetch("/undo/" + encodeURIComponent(token), {
          method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf(), "HX-Request": "true" }
        }).then(function (response) {
          if (!response.ok) { toast("It can no longer be undone."); return; }
          toast("Undone.");
          if (document.getElementById("calendar")) refreshCalendar();
          else window.location.reload();
        }, function () { toast("Eventide cannot be reached; nothing was undone."); });
      });
      box.appendChild(undo);
    }
    var dismiss = document.createElement("button");
    dismiss.type = "button";
    dismiss.className = "link";
    dismiss.setAttribute("aria-label", "Dismiss");
    dismiss.textContent = "×";
    dismiss.addEventListener("click", close);
    box.appendChild(dismiss);
    region.appendChild(box);
    // Long enough to read and reach; held while the pointer or focus is on it.
    function arm() { clearTimeout(timer); timer = setTimeout(close, 8000); }
    box.addEventListener("mouseenter", function () { clearTimeout(timer); });
    box.addEventListener("mouseleave", arm);
    box.addEventListener("focusin", function () { clearTimeout(timer); });
    box.addEventListener("focusout", arm);
    arm();
  }

  // htmx responses (a delete from the event page) announce their undo the same way.
  function onUndoEvent(event) { toast(event.detail.message, event.detail.token); }

  // ---- Popovers (quick create, which part of a series) -----------------------------------

  var popover = null;

  function closePopover(restoreFocus) {
    if (!popover) return;
    var back = popover.origin;
    popover.element.remove();
    if (popover.selection) popover.selection.remove();
    popover = null;
    if (restoreFocus && back && document.contains(back)) back.focus();
  }

  function openPopover(templateId, anchorRect, origin) {
    closePopover(false);
    var template = document.getElementById(templateId);
    if (!template) return null;
    var element = template.content.firstElementChild.cloneNode(true);
    element.setAttribute("role", "dialog");
    document.body.appendChild(element);
    // Beside the slot or event, inside the window (the phone stylesheet makes it a sheet).
    var width = element.offsetWidth, height = element.offsetHeight;
    var left = anchorRect.right + 8;
    if (left + width > window.innerWidth - 8) left = Math.max(8, anchorRect.left - width - 8);
    var top = Math.min(Math.max(8, anchorRect.top), Math.max(8, window.innerHeight - height - 8));
    element.style.left = (left + window.scrollX) + "px";
    element.style.top = (top + window.scrollY) + "px";
    popover = { element: element, origin: origin || document.activeElement, selection: null };
    element.addEventListener("click", function (event) {
      if (event.target.closest("[data-close]")) closePopover(true);
    });
    return element;
  }

  // Asks this / following / all for an occurrence of a series; resolves to the scope or null.
  function askScope(anchorRect, origin) {
    return new Promise(function (resolve) {
      var element = openPopover("scope-template", anchorRect, origin);
      if (!element) { resolve("this"); return; }
      element.querySelector("[data-scope]").focus();
      element.addEventListener("click", function (event) {
        var button = event.target.closest("[data-scope]");
        if (button) { closePopover(false); resolve(button.dataset.scope); }
        else if (event.target.closest("[data-close]")) resolve(null);
      });
      popover.cancel = function () { resolve(null); };
    });
  }

  function describeSlot(start, end) {
    var day = new Date(start.slice(0, 10) + "T12:00:00Z").toLocaleDateString(undefined, {
      weekday: "short", day: "numeric", month: "short", timeZone: "UTC"
    });
    return day + ", " + start.slice(11) + "–" + end.slice(11);
  }

  function quickCreate(start, end, anchorRect, origin, selection) {
    var form = openPopover("quick-create-template", anchorRect, origin);
    if (!form) return;
    popover.selection = selection || null;
    form.elements.start.value = start;
    form.elements.end.value = end;
    form.querySelector(".qc-when").textContent = describeSlot(start, end);
    var more = form.querySelector(".qc-more");
    function moreOptions() {
      var query = new URLSearchParams({
        start: start, end: end, title: form.elements.title.value,
        calendar_id: form.elements.calendar_id.value, next: form.elements.next.value
      });
      more.href = "/events/new?" + query.toString();
    }
    moreOptions();
    form.addEventListener("input", moreOptions);
    form.addEventListener("change", moreOptions);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector(".error");
      var fields = {};
      new FormData(form).forEach(function (value, key) { fields[key] = value; });
      post("/events", fields).then(function (response) {
        if (response.status === 204 || response.type === "opaqueredirect" || response.ok) {
          closePopover(false);
          refreshCalendar();
          toast("Event created.");
        } else {
          errorOf(response).then(function (message) {
            error.textContent = message;
            error.hidden = false;
            form.elements.title.focus();
          });
        }
      }, function () {
        error.textContent = "Eventide cannot be reached; nothing was saved.";
        error.hidden = false;
      });
    });
    form.elements.title.focus();
  }

  // ---- The time grid: scrolled to the day's hours, a moving "now" line ----------------------

  function zoneOf(root) {
    var calendar = root.closest ? root.closest("#calendar") : document.getElementById("calendar");
    return (calendar && calendar.dataset.zone) || undefined;
  }

  function nowIn(zone) {
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    return { date: parts.year + "-" + parts.month + "-" + parts.day, minutes: +parts.hour * 60 + +parts.minute };
  }

  function placeNowLine(grid) {
    var zone = zoneOf(grid);
    var now;
    try { now = nowIn(zone); } catch (e) { return null; }
    grid.querySelectorAll(".now-line").forEach(function (line) { line.remove(); });
    var column = grid.querySelector('.tg-col[data-date="' + now.date + '"]');
    if (!column) return null;
    var line = document.createElement("li");
    line.className = "now-line";
    line.setAttribute("aria-hidden", "true");
    line.style.top = (now.minutes / 1440 * 100) + "%";
    column.appendChild(line);
    return now;
  }

  function initTimeGrid(root) {
    var grid = root.querySelector ? root.querySelector(".timegrid") : null;
    if (!grid) return;
    var scroller = grid.querySelector(".tg-scroll");
    var column = grid.querySelector(".tg-col");
    var now = placeNowLine(grid);
    if (scroller && column) {
      var hour = column.getBoundingClientRect().height / 24;
      // Now, an hour of context above it, if today is in view; else the working day.
      scroller.scrollTop = now ? Math.max(0, (now.minutes / 60 - 1) * hour) : 7.5 * hour;
    }
    grid.querySelectorAll(".tg-event .chip").forEach(function (chip) { chip.draggable = false; });
    var hint = document.querySelector(".tg-hint");
    if (hint) hint.hidden = false;
  }

  setInterval(function () {
    var grid = document.querySelector(".timegrid");
    if (grid) placeNowLine(grid);
  }, 60000);

  // ---- Direct manipulation: pick a slot, drag an event, drag its lower edge ---------------

  var drag = null;
  var suppressClick = false;

  function columnAt(grid, x) {
    var columns = Array.prototype.slice.call(grid.querySelectorAll(".tg-col"));
    for (var i = 0; i < columns.length; i++) {
      var rect = columns[i].getBoundingClientRect();
      if (x >= rect.left && x < rect.right) return { index: i, column: columns[i] };
    }
    return null;
  }

  function quarterHeight(column) { return column.getBoundingClientRect().height / 96; }

  function quarterAt(column, y) {
    var rect = column.getBoundingClientRect();
    return Math.max(0, Math.min(95, Math.floor((y - rect.top) / quarterHeight(column))));
  }

  document.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || drag) return;
    var column = event.target.closest(".tg-col");
    if (!column) return;
    var grid = column.closest(".timegrid");
    var item = event.target.closest(".tg-event");
    // Touch scrolls the grid: only mouse and pen drag events (touch opens them, as a link).
    if (item && event.pointerType === "touch") return;
    if (item && !item.dataset.start) return;
    drag = {
      kind: item ? (event.target.closest(".resize") ? "resize" : "move") : "slot",
      grid: grid, column: column, item: item, x: event.clientX, y: event.clientY,
      from: quarterAt(column, event.clientY), moved: false, pointer: event.pointerId
    };
    if (drag.kind === "slot") {
      drag.selection = document.createElement("div");
      drag.selection.className = "slot-selection";
      drag.selection.setAttribute("aria-hidden", "true");
      column.appendChild(drag.selection);
      showSelection(drag, drag.from);
    }
  });

  function showSelection(d, to) {
    var first = Math.min(d.from, to), last = Math.max(d.from, to);
    var q = quarterHeight(d.column);
    d.selection.style.top = (first * q) + "px";
    d.selection.style.height = ((last - first + 1) * q) + "px";
  }

  document.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) return;
    drag.moved = true;
    var q = quarterHeight(drag.column);
    if (drag.kind === "slot") {
      showSelection(drag, quarterAt(drag.column, event.clientY));
    } else if (drag.kind === "move") {
      var over = columnAt(drag.grid, event.clientX);
      var from = columnAt(drag.grid, drag.x);
      drag.days = over && from ? over.index - from.index : 0;
      drag.quarters = Math.round(dy / q);
      var width = drag.column.getBoundingClientRect().width;
      drag.item.classList.add("dragging");
      drag.item.style.transform = "translate(" + (drag.days * width) + "px," + (drag.quarters * q) + "px)";
    } else {
      var length = drag.item.getBoundingClientRect().height;
      drag.quarters = Math.max(1 - Math.round(length / q), Math.round(dy / q));
      drag.item.classList.add("dragging");
      drag.item.style.height = Math.max(q, length + drag.quarters * q) + "px";
    }
    event.preventDefault();
  });

  document.addEventListener("pointerup", function (event) {
    if (!drag || event.pointerId !== drag.pointer) return;
    var d = drag;
    drag = null;
    if (d.kind === "slot") {
      var to = d.moved ? quarterAt(d.column, event.clientY) : d.from + 3;
      var first = Math.min(d.from, to), last = Math.min(95, Math.max(d.from, to));
      var date = d.column.dataset.date;
      quickCreate(quarter(date, first), quarter(date, last + 1), d.selection.getBoundingClientRect(), d.column, d.selection);
      return;
    }
    if (!d.moved) return;
    suppressClick = true;
    setTimeout(function () { suppressClick = false; }, 0);
    var start = d.item.dataset.start, end = d.item.dataset.end;
    if (d.kind === "move") {
      var minutes = (d.days || 0) * 1440 + (d.quarters || 0) * 15;
      if (!minutes) { d.item.style.transform = ""; d.item.classList.remove("dragging"); return; }
      change(d.item, shift(start, minutes), shift(end, minutes));
    } else {
      var newEnd = shift(end, (d.quarters || 0) * 15);
      if (newEnd === end || minutesBetween(start, newEnd) < 15) {
        d.item.style.height = ""; d.item.classList.remove("dragging"); return;
      }
      change(d.item, start, newEnd);
    }
  });

  document.addEventListener("pointercancel", function () {
    if (!drag) return;
    if (drag.selection) drag.selection.remove();
    if (drag.item) { drag.item.style.transform = ""; drag.item.style.height = ""; drag.item.classList.remove("dragging"); }
    drag = null;
  });

  // A drag ends in a click on the link it started on: that click is not a visit.
  document.addEventListener("click", function (event) {
    if (suppressClick && event.target.closest(".tg-event")) { event.preventDefault(); event.stopPropagation(); }
  }, true);

  // The "+" of a day opens the quick popover at 09:00 (the link is the full form without it).
  document.addEventListener("click", function (event) {
    var add = event.target.closest(".tg-add");
    if (!add || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var head = add.closest(".tg-day");
    var grid = add.closest(".timegrid");
    var index = Array.prototype.indexOf.call(grid.querySelectorAll(".tg-day"), head);
    var column = grid.querySelectorAll(".tg-col")[index];
    if (!column) return;
    event.preventDefault();
    var date = column.dataset.date;
    quickCreate(date + "T09:00", date + "T10:00", add.getBoundingClientRect(), add);
  });

  // Saves new times for an event (asking which part, for a repeating one), then redraws the
  // calendar with the event focused and offers to undo.
  function change(item, start, end) {
    var id = item.dataset.id, occurrence = item.dataset.occurrence || "";
    var anchor = item.getBoundingClientRect();
    var origin = item.querySelector(".chip");
    var asked = occurrence ? askScope(anchor, origin) : Promise.resolve("this");
    return asked.then(function (scope) {
      if (!scope) { refreshCalendar('.tg-event[data-id="' + id + '"] .chip'); return; }
      return post("/events/" + id + "/move", { start: start, end: end, scope: scope, occurrence: occurrence })
        .then(function (response) {
          if (response.status === 204) {
            // The landing names the event as it is now (a moved occurrence is a new row).
            var landing = {};
            try { landing = JSON.parse(response.headers.get("HX-Location") || "{}"); } catch (e) { landing = {}; }
            var moved = /^\/events\/(\d+)/.exec(landing.path || "");
            var offer = undoOffer(response);
            refreshCalendar('.tg-event[data-id="' + (moved ? moved[1] : id) + '"] .chip');
            toast(offer ? offer.message + "." : "Event moved.", offer && offer.token);
          } else {
            errorOf(response).then(function (message) { toast(message); });
            refreshCalendar();
          }
        }, function () { toast("Eventide cannot be reached; the event was not moved."); refreshCalendar(); });
    });
  }

  // The keyboard path: Shift+arrows move the focused event by 15 minutes or a day,
  // Shift+Alt+Up/Down shorten or lengthen it.
  document.addEventListener("keydown", function (event) {
    if (!event.shiftKey || event.ctrlKey || event.metaKey) return;
    var item = event.target.closest && event.target.closest(".tg-event");
    if (!item || !item.dataset.start) return;
    var step = { ArrowUp: -15, ArrowDown: 15, ArrowLeft: -1440, ArrowRight: 1440 }[event.key];
    if (!step) return;
    event.preventDefault();
    var start = item.dataset.start, end = item.dataset.end;
    if (event.altKey) {
      if (Math.abs(step) !== 15) return;
      var newEnd = shift(end, step);
      if (minutesBetween(start, newEnd) >= 15) change(item, start, newEnd);
    } else {
      change(item, shift(start, step), shift(end, step));
    }
  });

  // ---- The month grid: the WAI-ARIA grid pattern -----------------------------------------
  // One tab stop; arrows move by day and week, Home/End to the week's ends, PageUp/PageDown to
  // the previous/next month, Enter opens the day, C adds an event on it.
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
    if (!cell || event.ctrlKey || event.metaKey || event.altKey) return;
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
      case "c":
      case "C":
        // A new event on this day, coming back to this month once it is saved.
        event.preventDefault();
        window.location.href = "/events/new?date=" + cell.dataset.date + "&next=" + encodeURIComponent(window.location.pathname);
        return;
      default: return;
    }
    event.preventDefault();
    if (target) focusCell(grid, target);
  });

  // ---- Keyboard shortcuts (listed with "?"); never while typing ---------------------------

  function follow(id, fallback) {
    var link = document.getElementById(id);
    if (link && link.offsetParent !== null) link.click();
    // A public calendar's visitor has no calendar of their own to fall back to.
    else if (fallback && !document.querySelector("#calendar.public")) window.location.href = fallback;
  }

  var shortcuts = {
    "t": function () { follow("cal-today", "/calendar"); },
    "n": function () { follow("cal-next"); },
    "p": function () { follow("cal-prev"); },
    "m": function () { follow("view-month", "/calendar/month"); },
    // A phone shows three days instead of the week.
    "w": function () {
      var week = document.getElementById("view-week");
      follow(week && week.offsetParent === null ? "view-3day" : "view-week", "/calendar/week");
    },
    "d": function () { follow("view-day", "/calendar/day"); },
    "a": function () { follow("view-agenda", "/calendar/agenda"); },
    "c": function () { follow("cal-new", "/events/new"); },
    "/": function () {
      var search = document.getElementById("q");
      if (search) search.focus();
      else window.location.href = "/search";
    },
    "?": function () { showShortcuts(); }
  };

  function showShortcuts() {
    var help = document.getElementById("shortcuts-help");
    if (help && !help.open) help.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      if (drag) { document.dispatchEvent(new Event("pointercancel")); return; }
      if (popover) {
        if (popover.cancel) popover.cancel();
        closePopover(true);
        event.preventDefault();
      }
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (popover || document.querySelector("dialog[open]")) return;
    if (event.target.closest && event.target.closest(".month-grid td[role=gridcell]") && /^[cC]$/.test(event.key)) return;
    var action = shortcuts[event.key];
    if (!action || !document.querySelector('meta[name="csrf-token"]')) return;
    event.preventDefault();
    action();
  });

  // A click outside a popover closes it.
  document.addEventListener("pointerdown", function (event) {
    if (popover && !popover.element.contains(event.target)) {
      if (popover.cancel) popover.cancel();
      closePopover(false);
    }
  }, true);

  // ---- After an htmx swap: keep the user's place ----------------------------------------

  var lastFocusedId = null;
  var heldFocus = null;
  document.addEventListener("htmx:beforeRequest", function () {
    heldFocus = null;
    var active = document.activeElement;
    lastFocusedId = active && active.id ? active.id : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // With an outerHTML swap the event's target is the element that was replaced.
    if (!event.detail.target || event.detail.target.id !== "calendar") return;
    var target = document.getElementById("calendar");
    if (!target) return;
    init(target);
    // One swap can settle in several events: the element asked for keeps focus through all.
    if (pendingFocus) { heldFocus = target.querySelector(pendingFocus); pendingFocus = null; }
    if (heldFocus && document.contains(heldFocus)) { heldFocus.focus(); return; }
    var again = lastFocusedId && document.getElementById(lastFocusedId);
    var grid = target.querySelector(".month-grid");
    if (grid && lastFocusedId === null) {
      var active = grid.querySelector("td[tabindex='0']");
      if (active) { active.focus(); return; }
    }
    (again || target.querySelector("#calendar-title")).focus();
  });
  // A calendar that arrives inside #main (from another page) is set up too.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "main") init(event.detail.target);
  });

  // The event form: date inputs when "all day" is ticked, date-time inputs otherwise, and the
  // reminders that go with each (a disabled fieldset sends nothing).
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-toggles-dates]")) return;
    var form = event.target.form;
    Array.prototype.forEach.call(form.querySelectorAll("[data-reminders]"), function (set) {
      var wanted = (set.dataset.reminders === "all-day") === event.target.checked;
      set.hidden = !wanted;
      set.disabled = !wanted;
    });
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

  // ---- Reminders as browser notifications (the user opts in on /notifications) ----------
  // The newest notification already shown (or there when the user opted in) is remembered per
  // browser, so each shows once however many tabs poll.

  var SHOWN_KEY = "eventide-notified-after";

  function browserNotifies() {
    return "Notification" in window && Notification.permission === "granted" &&
      window.localStorage.getItem(SHOWN_KEY) !== null;
  }

  function pollReminders() {
    if (!document.getElementById("notifications-link") || !browserNotifies()) return;
    var after = window.localStorage.getItem(SHOWN_KEY) || "0";
    fetch("/notifications/unread.json?after=" + encodeURIComponent(after), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (items) {
        items.forEach(function (item) {
          var shown = new Notification(item.title, { body: item.body, tag: "eventide-" + item.id });
          shown.onclick = function () { window.focus(); window.location.href = item.href; };
          var newest = Math.max(+(window.localStorage.getItem(SHOWN_KEY) || 0), item.id);
          window.localStorage.setItem(SHOWN_KEY, String(newest));
        });
      }, function () { /* offline: the next poll tries again */ });
  }

  function initBrowserNotifications() {
    var button = document.getElementById("browser-notifications");
    if (!button || !("Notification" in window)) return;
    var state = document.getElementById("browser-notifications-state");
    function say() {
      var on = browserNotifies();
      button.hidden = on || Notification.permission === "denied";
      state.textContent = on ? "Reminders also show as notifications in this browser."
        : Notification.permission === "denied" ? "This browser blocks notifications from Eventide." : "";
    }
    button.parentNode.hidden = false;
    say();
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission === "granted") window.localStorage.setItem(SHOWN_KEY, button.dataset.latest || "0");
        say();
      });
    });
  }

  function init(root) {
    initGrid(root);
    initTimeGrid(root);
    // The drawer of months and calendars starts closed on a phone.
    var drawer = root.querySelector ? root.querySelector("details.drawer") : null;
    if (drawer && window.matchMedia("(max-width: 640px)").matches) drawer.open = false;
    var button = root.querySelector ? root.querySelector(".shortcuts-button") : null;
    if (button) { button.hidden = false; button.addEventListener("click", showShortcuts); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.body.addEventListener("eventide:undo", onUndoEvent);
    init(document);
    initBrowserNotifications();
    pollReminders();
    window.setInterval(pollReminders, 30000);
  });
})();
