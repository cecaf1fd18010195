/* The therapist's week calendar (R1–R7, R10, R12–R15, R18): FullCalendar 7 in her time zone,
   over the JSON API (slots, clients) and this app's booking view (a fragment in a <dialog>).
   Every rule is the server's: a refused change snaps back and says why in words. */
(function () {
  "use strict";
  const T = window.Tidbok;
  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const S = config.strings;
  window.TidbokStrings = S;
  const statusEl = document.getElementById("calendar-status");
  const alertEl = document.getElementById("calendar-alert");
  const slotDialog = document.getElementById("slot-dialog");
  const slotBody = document.getElementById("slot-dialog-body");
  const newDialog = document.getElementById("new-slot-dialog");
  const calendarEl = document.getElementById("calendar");

  // Colour (R2, R7, R14, R15) plus a shape and words, so colour is never the only signal.
  const COLORS = {
    green: ["#23704a", "#ffffff"],
    blue: ["#2a62a3", "#ffffff"],
    red: ["#b0302f", "#ffffff"],
    yellow: ["#f2c94c", "#1d2433"],
  };
  const ICONS = { green: "○", blue: "◐", red: "●", yellow: "★" };

  function say(text) {
    alertEl.textContent = "";
    statusEl.textContent = text;
  }

  function warn(text) {
    statusEl.textContent = "";
    alertEl.textContent = text;
  }

  const whenFormat = new Intl.DateTimeFormat(config.locale, {
    timeZone: config.timeZone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });

  function when(iso) {
    return whenFormat.format(new Date(iso));
  }

  function label(entry) {
    if (entry.booking) {
      const c = entry.booking.client;
      return (entry.booking.first_visit ? S.firstVisit : S.booked) + ": " + c.first_name + " " + c.last_name;
    }
    return entry.audience === "existing" ? S.existingOnly : S.open;
  }

  function toEvent(entry) {
    const colors = COLORS[entry.color] || COLORS.green;
    const begun = new Date(entry.start) <= new Date();
    return {
      id: String(entry.id),
      start: entry.start,
      end: entry.end,
      title: label(entry),
      color: colors[0],
      contrastColor: colors[1],
      className: "slot slot-" + entry.color,
      // A booked slot is moved from its booking view, where the therapist sees that the
      // client will be told (R18); a slot that has begun cannot change at all.
      editable: !entry.booking && !begun,
      extendedProps: { entry: entry },
    };
  }

  function slotUrl(id, suffix) {
    return config.urls.slot.replace(/\/0\/$/, "/" + id + "/") + (suffix || "");
  }

  function narrow() {
    return window.matchMedia("(max-width: 40rem)").matches;
  }

  const calendar = new FullCalendar.Calendar(document.getElementById("calendar"), {
    locale: config.locale,
    timeZone: config.timeZone,
    firstDay: 1,
    initialView: narrow() ? "timeGridDay" : "timeGridWeek",
    initialDate: config.initialDate || undefined,
    headerToolbar: { start: "title", end: "timeGridWeek,timeGridDay,listWeek today prev,next" },
    buttons: { timeGridWeek: { text: S.week }, timeGridDay: { text: S.day }, listWeek: { text: S.list } },
    listText: S.list,
    viewHint: function (buttonText) { return buttonText; },
    height: narrow() ? "auto" : "max(32rem, calc(100vh - 8rem))",
    allDaySlot: false,
    nowIndicator: true,
    slotDuration: "00:15:00",
    slotHeaderInterval: "01:00",
    slotMinTime: "06:00:00",
    slotMaxTime: "22:00:00",
    scrollTime: "07:30:00",
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotHeaderFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    selectable: true,
    selectMirror: true,
    selectMinDistance: 8,
    selectOverlap: false,
    editable: true,
    eventInteractive: true,
    eventOverlap: true,
    events: function (info, success, failure) {
      const url = config.urls.events + "?start=" + encodeURIComponent(info.startStr) + "&end=" + encodeURIComponent(info.endStr);
      T.request(url).then(function (result) {
        if (result.ok) success(result.data.map(toEvent));
        else failure(new Error(String(result.status)));
      });
    },
    loading: function (isLoading) {
      // aria-busy while slots load: assistive technology waits, and so can tests.
      document.getElementById("calendar").setAttribute("aria-busy", String(isLoading));
    },
    eventSourceFailure: function () {
      warn(S.loadFailed);
    },
    eventContent: function (arg) {
      const entry = arg.event.extendedProps.entry;
      if (!entry) return arg.timeText;  // the mirror of a stretch being marked
      const box = document.createElement("div");
      box.className = "slot-content";
      const time = document.createElement("span");
      time.className = "slot-time";
      time.textContent = arg.timeText;
      const title = document.createElement("span");
      title.className = "slot-title";
      const icon = document.createElement("span");
      icon.className = "slot-icon";
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = ICONS[entry.color] || "";
      title.append(icon, " ", arg.event.title);
      const price = document.createElement("span");
      price.className = "slot-price";
      price.textContent = entry.price + " kr";
      box.append(time, " ", title, " ", price);
      return { domNodes: [box] };
    },
    eventDidMount: function (arg) {
      const entry = arg.event.extendedProps.entry;
      if (!entry) return;
      arg.el.dataset.slotId = String(entry.id);
      arg.el.dataset.color = entry.color;
    },
    dateClick: function (info) {
      if (!info.allDay) createAt(info.dateStr);
    },
    select: function (info) {
      calendar.unselect();
      if (!info.allDay) createRange(info.startStr, info.endStr);
    },
    eventClick: function (info) {
      if (info.jsEvent) info.jsEvent.preventDefault();
      openSlot(info.event.id, info.el);
    },
    eventDrop: function (info) {
      change(info, { start: info.event.startStr }, function (entry) {
        return T.format(S.moved, { time: when(entry.start) });
      });
    },
    eventResize: function (info) {
      const minutes = Math.round((info.event.end - info.event.start) / 60000);
      change(info, { duration_minutes: minutes }, function (entry) {
        return T.format(S.resized, { minutes: entry.duration_minutes, price: entry.price });
      });
    },
  });
  calendar.render();
  window.tidbokCalendar = calendar;

  /* Load the slots again after a change; busy at once, so that nobody (person or test)
     reads the old slots as the new ones in the moment before the loading starts. */
  function refresh() {
    calendarEl.setAttribute("aria-busy", "true");
    calendar.refetchEvents();
  }

  async function createAt(startStr) {
    const result = await T.request(config.urls.apiSlots, { method: "POST", json: { start: startStr } });
    if (result.ok) {
      refresh();
      say(T.format(S.created, { time: when(result.data.start) }));
    } else {
      warn(T.format(S.refused, { reason: T.reasonOf(result, S.failed) }));
    }
  }

  async function createRange(startStr, endStr) {
    const body = new FormData();
    body.append("start", startStr);
    body.append("end", endStr);
    const result = await T.request(config.urls.range, { method: "POST", body: body });
    if (result.ok) {
      refresh();
      say(result.data.message);
    } else {
      warn(T.format(S.refused, { reason: T.reasonOf(result, S.failed) }));
    }
  }

  /* A drag or a resize, saved at once; refused, it snaps back (info.revert) and says why. */
  async function change(info, body, describe) {
    const result = await T.request(config.urls.apiSlots + "/" + info.event.id, { method: "PATCH", json: body });
    if (result.ok) {
      refresh();
      say(describe(result.data));
    } else {
      info.revert();
      warn(T.format(S.refused, { reason: T.reasonOf(result, S.failed) }));
    }
  }

  /* The booking view: a fragment rendered by the server, in the modal dialog. */
  // Only the latest request opens the view, and none that was overtaken by closing it.
  let opening = 0;
  slotDialog.addEventListener("close", function () { opening++; });

  async function openSlot(id, opener, status) {
    const mine = ++opening;
    const result = await T.request(slotUrl(id), { headers: { Accept: "text/html" } });
    if (mine !== opening) return;
    if (!result.ok) {
      warn(S.failed);
      if (slotDialog.open) T.closeDialog(slotDialog);
      return;
    }
    slotBody.innerHTML = result.data;
    slotDialog.dataset.slotId = String(id);
    wireForms(slotBody);
    T.openDialog(slotDialog, opener);
    if (status) {
      const box = slotBody.querySelector("[data-role=status]");
      if (box) box.textContent = status;
    }
  }

  slotDialog.addEventListener("tidbok:done", function (e) {
    const answer = e.detail || {};
    refresh();
    say(answer.message || "");
    if (answer.closed) T.closeDialog(slotDialog);
    else openSlot(slotDialog.dataset.slotId, null, answer.message);
  });

  document.getElementById("new-slot-button").addEventListener("click", function (e) {
    const form = newDialog.querySelector("form");
    form.querySelectorAll("[data-error-for]").forEach(function (box) { box.textContent = ""; });
    T.showMessage(form, "");
    T.openDialog(newDialog, e.currentTarget);
  });

  newDialog.addEventListener("tidbok:done", function (e) {
    const answer = e.detail || {};
    // Repeats are asked for each time, never carried over into the next new slot by accident.
    const weeks = newDialog.querySelector("[name=weeks]");
    if (weeks) weeks.value = "";
    T.closeDialog(newDialog);
    say(answer.message || "");
    if (answer.start) calendar.gotoDate(answer.start);
    refresh();
    if (answer.slot) openSlot(answer.slot, document.getElementById("new-slot-button"), answer.message);
  });

  /* Keyboard: Enter or Space on a slot in the calendar opens its booking view. */
  document.getElementById("calendar").addEventListener("keydown", function (e) {
    if (e.key !== "Enter" && e.key !== " ") return;
    const el = e.target.closest("[data-slot-id]");
    if (!el || el.closest("dialog")) return;
    e.preventDefault();
    openSlot(el.dataset.slotId, el);
  });

  wireForms(newDialog);

  function wireForms(root) {
    root.querySelectorAll(".slot-form").forEach(wirePriceFollowsLength);
    root.querySelectorAll("[data-combobox]").forEach(wireCombobox);
  }

  /* R5 in the form: the price follows the length (the server's price for it) until the
     therapist types a price herself; then it is hers and is sent as typed. */
  function wirePriceFollowsLength(form) {
    const length = form.querySelector("[name=duration_minutes]");
    const price = form.querySelector("[name=price]");
    const typed = form.querySelector("[name=price_typed]");
    if (!length || !price || !typed) return;
    typed.value = "";
    let asked = 0;
    price.addEventListener("input", function () { typed.value = "True"; });
    length.addEventListener("input", async function () {
      if (typed.value === "True") return;
      const minutes = parseInt(length.value, 10);
      if (!(minutes > 0)) return;
      const mine = ++asked;
      const result = await T.request(config.urls.price + "?minuter=" + minutes);
      if (mine === asked && result.ok && typed.value !== "True") price.value = result.data.price;
    });
  }

  /* Boka med klient (R13): first-name suggestions from her client list, each with the
     personnummer so namesakes can be told apart; arrows and Enter, or the mouse, to choose. */
  function wireCombobox(root) {
    const input = root.querySelector("[role=combobox]");
    const list = root.querySelector("[role=listbox]");
    const hidden = root.querySelector("input[name=client]");
    const chosen = root.querySelector("[data-role=chosen]");
    let clients = [];
    let active = -1;
    let timer = null;
    let asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function mark(index) {
      const options = list.querySelectorAll("[role=option][data-index]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", String(i === index)); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      const c = clients[index];
      if (!c) return;
      hidden.value = String(c.id);
      input.value = c.first_name + " " + c.last_name;
      chosen.textContent = T.format(S.chosen, { name: c.first_name + " " + c.last_name + " (" + [c.personnummer, c.email].filter(Boolean).join(", ") + ")" });
      close();
    }

    function render() {
      list.replaceChildren();
      if (!clients.length) {
        const li = document.createElement("li");
        li.className = "no-match";
        li.textContent = S.noMatches;
        list.append(li);
      }
      clients.forEach(function (c, i) {
        const li = document.createElement("li");
        li.id = "client-option-" + c.id;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.dataset.index = String(i);
        const name = document.createElement("span");
        name.className = "option-name";
        name.textContent = c.first_name + " " + c.last_name;
        const pnr = document.createElement("span");
        pnr.className = "pnr";
        pnr.textContent = c.personnummer || "";
        // The address too: a personnummer may only have been typed (R26), so two suggestions
        // with one name and number are told apart by where the confirmation will go.
        const email = document.createElement("span");
        email.className = "option-email";
        email.textContent = c.email;
        li.append(name, " ", pnr, " ", email);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(i); input.focus(); });
        list.append(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      mark(-1);
    }

    async function search() {
      const q = input.value.trim();
      const mine = ++asked;
      if (!q) { close(); return; }
      const result = await T.request(config.urls.apiClients + "?q=" + encodeURIComponent(q));
      if (mine !== asked || !result.ok) return;
      clients = result.data;
      render();
    }

    input.addEventListener("input", function () {
      hidden.value = "";
      chosen.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(search, 120);
    });

    input.addEventListener("keydown", function (e) {
      const open = !list.hidden;
      if (e.key === "ArrowDown") {
        e.preventDefault();
        if (!open) { search(); return; }
        mark(Math.min(active + 1, clients.length - 1));
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        if (open) mark(Math.max(active - 1, 0));
      } else if (e.key === "Enter" && open && active >= 0) {
        e.preventDefault();
        choose(active);
      } else if (e.key === "Escape" && open) {
        // Close the suggestions, not the dialog.
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    });

    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }
})();
