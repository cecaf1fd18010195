/* The therapist's week calendar (R1–R7, R10, R12–R15, R18): FullCalendar 7 in her time zone,
   over the JSON API (slots, clients) and this app's booking view (a fragment in a <dialog>).
   Every rule is the server's: a refused change snaps back and says why in words. What it
   needs from the server (URLs, words, the colours) is in the page's json_script
   #calendar-config (therapist_pages.views.calendar). */
(function () {
  "use strict";
  const T = window.Tidbok;
  const config = JSON.parse(document.getElementById("calendar-config").textContent);
  const S = config.strings;
  const statusEl = document.getElementById("calendar-status");
  const alertEl = document.getElementById("calendar-alert");
  const slotDialog = document.getElementById("slot-dialog");
  const slotBody = document.getElementById("slot-dialog-body");
  const newDialog = document.getElementById("new-slot-dialog");
  const moveDialog = document.getElementById("move-dialog");
  const calendarEl = document.getElementById("calendar");

  // Colour (R2, R7, R14, R15) plus a shape and words, so colour is never the only signal:
  // therapist_pages/colours.py's, by the name the API's `color` gives.
  const COLOURS = config.colours;
  // R34: a visit's outcome is an icon and words beside the colour, never a colour of its own
  // (therapist_pages/colours.py's OUTCOME_ICONS, the words domain/models.py's `Outcome`).
  const OUTCOMES = config.outcomes;
  // R35: the marks over a colour (therapist_pages/colours.py's MARKS): an open slot that
  // clients cannot book now (the API's `bookable_by_clients` is false) is hatched.
  const MARKS = config.marks;

  function closedToClients(entry) {
    return entry.status === "available" && !entry.bookable_by_clients && new Date(entry.start) > new Date();
  }

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
    const words = COLOURS[entry.color].label;
    if (!entry.booking) return words;
    const c = entry.booking.client;
    return words + ": " + c.first_name + " " + c.last_name;
  }

  function toEvent(entry) {
    const colour = COLOURS[entry.color];
    const begun = new Date(entry.start) <= new Date();
    return {
      id: String(entry.id),
      start: entry.start,
      end: entry.end,
      title: label(entry),
      color: colour.background,
      contrastColor: colour.text,
      className: "slot slot-" + entry.color,
      // A booked slot moves too, once she has said yes to telling the client (R18, `change`);
      // a slot that has begun cannot change at all.
      editable: !begun,
      extendedProps: { entry: entry },
    };
  }

  const TIME_OFF = config.timeOff;

  function timeOffEvent(item) {
    return {
      id: "time-off-" + item.id,
      start: item.start,
      end: item.end,
      display: "background",
      className: "time-off",
      color: TIME_OFF.background,
      extendedProps: { timeOff: item },
    };
  }

  // R38: a busy time of her other calendar, a grey band behind the slots ("Upptagen", or the
  // event's title when she chose to see titles).
  const BUSY = config.busy;

  function busyEvent(item, index) {
    return {
      id: "busy-" + index + "-" + item.start,
      start: item.start,
      end: item.end,
      display: "background",
      className: "busy-time",
      color: BUSY.background,
      extendedProps: { busy: item },
    };
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
    // The locale's hint ("Denna vecka") would name the button otherwise than its word
    // ("Idag"); a name must contain what the button shows (WCAG 2.5.3).
    todayHint: S.today,
    timedText: S.times,
    // A fixed height at every width: the grid scrolls inside itself, so that it can open at
    // the morning (scrollTime) and still hold the whole day, night hours included.
    height: narrow() ? "max(28rem, calc(100vh - 6rem))" : "max(32rem, calc(100vh - 8rem))",
    allDaySlot: false,
    nowIndicator: true,
    slotDuration: "00:15:00",
    slotHeaderInterval: "01:00",
    slotMinTime: "00:00:00",
    slotMaxTime: "24:00:00",
    scrollTime: "07:00:00",
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
      T.request(T.url(config.urls.events, {}, { start: info.startStr, end: info.endStr })).then(function (result) {
        if (result.ok) success(result.data.map(toEvent));
        else failure(new Error(String(result.status)));
      });
    },
    // R36: her time off, a band behind the slots with its words ("Ledighet", or her note).
    eventSources: [{
      id: "time-off",
      events: function (info, success, failure) {
        T.request(T.url(config.urls.timeOff, {}, { start: info.startStr, end: info.endStr })).then(function (result) {
          if (result.ok) success(result.data.map(timeOffEvent));
          else failure(new Error(String(result.status)));
        });
      },
    }, {
      id: "busy",
      events: function (info, success, failure) {
        T.request(T.url(config.urls.busy, {}, { start: info.startStr, end: info.endStr })).then(function (result) {
          if (result.ok) success(result.data.map(busyEvent));
          else failure(new Error(String(result.status)));
        });
      },
    }],
    backgroundEventContent: function (arg) {
      const busy = arg.event.extendedProps.busy;
      if (busy) {
        const band = document.createElement("div");
        band.className = "busy-label";
        const icon = document.createElement("span");
        icon.setAttribute("aria-hidden", "true");
        icon.textContent = BUSY.icon;
        band.append(icon, " ", busy.title ? BUSY.label + ": " + busy.title : BUSY.label);
        return { domNodes: [band] };
      }
      const timeOff = arg.event.extendedProps.timeOff;
      if (!timeOff) return true;
      const band = document.createElement("div");
      band.className = "time-off-label";
      const icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = TIME_OFF.icon;
      band.append(icon, " ", timeOff.note ? TIME_OFF.label + ": " + timeOff.note : TIME_OFF.label);
      return { domNodes: [band] };
    },
    backgroundEventDidMount: function (arg) {
      const timeOff = arg.event.extendedProps.timeOff;
      if (timeOff) arg.el.dataset.timeOffId = String(timeOff.id);
      if (arg.event.extendedProps.busy) arg.el.dataset.busy = "true";
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
      icon.textContent = COLOURS[entry.color].icon;
      title.append(icon, " ", arg.event.title);
      if (entry.booking && entry.booking.series_id) {
        // R32: a booking of a weekly series carries a small ↻ (a mark, not a colour), and says so.
        const mark = document.createElement("span");
        mark.className = "slot-series";
        mark.dataset.series = String(entry.booking.series_id);
        const shape = document.createElement("span");
        shape.setAttribute("aria-hidden", "true");
        shape.textContent = "↻";
        const words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = ", " + S.series;
        mark.append(shape, words);
        title.append(" ", mark);
      }
      const outcome = entry.booking && entry.booking.outcome && OUTCOMES[entry.booking.outcome];
      if (outcome) {
        const mark = document.createElement("span");
        mark.className = "slot-outcome";
        mark.dataset.outcome = entry.booking.outcome;
        mark.title = outcome.label;
        const shape = document.createElement("span");
        shape.setAttribute("aria-hidden", "true");
        shape.textContent = outcome.icon;
        const words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = outcome.label;
        mark.append(shape, words);
        title.append(" ", mark);
      }
      if (closedToClients(entry)) {
        const mark = document.createElement("span");
        mark.className = "slot-mark";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = MARKS.closed.icon;
        const words = document.createElement("span");
        words.className = "visually-hidden";
        words.textContent = ", " + MARKS.closed.label;
        title.append(" ", mark, words);
      }
      const price = document.createElement("span");
      price.className = "slot-price";
      price.textContent = T.format(S.price, { price: entry.price });
      box.append(time, " ", title, " ", price);
      return { domNodes: [box] };
    },
    eventDidMount: function (arg) {
      const entry = arg.event.extendedProps.entry;
      if (!entry) return;
      arg.el.dataset.slotId = String(entry.id);
      arg.el.dataset.color = entry.color;
      arg.el.dataset.bookableByClients = String(entry.bookable_by_clients);
      arg.el.classList.toggle("slot-closed", closedToClients(entry));
      // The list view puts the slots (buttons) straight into a role=list, which may hold
      // list items only: a group of buttons is what it is.
      const parent = arg.el.parentElement;
      if (parent && parent.getAttribute("role") === "list") parent.setAttribute("role", "group");
    },
    datesSet: function () {
      // The time grid's row header is named (aria-label) but empty: give assistive technology
      // its words as text too, hidden from the eye. After the view has been drawn.
      requestAnimationFrame(function () {
        calendarEl.querySelectorAll("[role=rowheader][aria-label]:empty").forEach(function (el) {
          const words = document.createElement("span");
          words.className = "visually-hidden";
          words.textContent = el.getAttribute("aria-label");
          el.append(words);
        });
      });
    },
    dayHeaderDidMount: function (arg) {
      // The day's words are hidden from assistive technology, which leaves the column
      // header empty to it; its name (the full date) stays in aria-label.
      arg.el.querySelectorAll("[aria-hidden=true]").forEach(function (el) { el.removeAttribute("aria-hidden"); });
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
      change(info, { start: info.event.startStr }, function (entry, client) {
        return T.format(client ? S.movedBooked : S.moved, { time: when(entry.start), name: client });
      });
    },
    eventResize: function (info) {
      const minutes = Math.round((info.event.end - info.event.start) / 60000);
      change(info, { duration_minutes: minutes }, function (entry, client) {
        return T.format(client ? S.resizedBooked : S.resized,
          { minutes: entry.duration_minutes, price: entry.price, name: client });
      });
    },
  });
  calendar.render();

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
      warn(T.format(S.notCreated, { reason: T.reasonOf(result, S.failed) }));
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
      warn(T.format(S.notCreated, { reason: T.reasonOf(result, S.failed) }));
    }
  }

  /* A drag or a resize, saved at once; refused, it snaps back (info.revert) and says why.
     A booked slot is the client's time too: moving it reschedules her booking and mails
     her (R18), so she is asked first, and "no" snaps it back. */
  async function change(info, body, describe) {
    const booking = info.event.extendedProps.entry.booking;
    const client = booking ? booking.client.first_name + " " + booking.client.last_name : "";
    if (booking) {
      // The ISO strings carry her zone's offset; the Date objects may not (FullCalendar).
      const question = T.format(S.askChangeBooked, {
        name: client, time: when(info.event.startStr) + "–" + clock(new Date(info.event.endStr)),
      });
      if (!(await ask(question, info.el))) {
        info.revert();
        say(S.notMoved);
        return;
      }
    }
    const result = await T.request(T.url(config.urls.apiSlot, { slot_id: info.event.id }), { method: "PATCH", json: body });
    if (result.ok) {
      refresh();
      say(describe(result.data, client));
    } else {
      info.revert();
      warn(T.format(S.refused, { reason: T.reasonOf(result, S.failed) }));
    }
  }

  const clockFormat = new Intl.DateTimeFormat(config.locale, {
    timeZone: config.timeZone, hour: "2-digit", minute: "2-digit",
  });

  function clock(date) {
    return clockFormat.format(date);
  }

  /* Yes or no in a modal dialog of our own (no window.confirm: it cannot be styled, read
     well or tested, and it blocks the page). Escape or "no" is no. */
  function ask(question, opener) {
    return new Promise(function (resolve) {
      let answer = false;
      moveDialog.querySelector("[data-role=question]").textContent = question;
      function onClick(e) {
        const button = e.target.closest("[data-answer]");
        if (!button) return;
        answer = button.dataset.answer === "yes";
        T.closeDialog(moveDialog);
      }
      moveDialog.addEventListener("click", onClick);
      moveDialog.addEventListener("close", function () {
        moveDialog.removeEventListener("click", onClick);
        resolve(answer);
      }, { once: true });
      T.openDialog(moveDialog, opener);
      moveDialog.querySelector("[data-answer=yes]").focus();
    });
  }

  /* The booking view: a fragment rendered by the server, in the modal dialog. */
  // Only the latest request opens the view, and none that was overtaken by closing it.
  let opening = 0;
  slotDialog.addEventListener("close", function () { opening++; });

  async function openSlot(id, opener, status) {
    const mine = ++opening;
    const result = await T.request(T.url(config.urls.slot, { slot_id: id }), { headers: { Accept: "text/html" } });
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
      const result = await T.request(T.url(config.urls.price, {}, { minuter: minutes }));
      if (mine === asked && result.ok && typed.value !== "True") price.value = result.data.price;
    });
  }

  /* Boka med klient (R13): first-name suggestions from her client list, each with the
     personnummer so namesakes can be told apart; arrows and Enter, or the mouse, to choose.
     No match: she may add the client right here (R12), who is then the one chosen. */
  function wireCombobox(root) {
    const input = root.querySelector("[role=combobox]");
    const list = root.querySelector("[role=listbox]");
    const hidden = root.querySelector("input[name=client]");
    const chosen = root.querySelector("[data-role=chosen]");
    const noMatch = root.querySelector("[data-role=no-match]");
    let clients = [];

    /* "Nobody by that name" is not an option to choose: it is said beside the list, with the
       way to add her. */
    function nobody(shown) {
      if (!noMatch) return;
      const text = noMatch.querySelector("[data-role=no-match-text]");
      text.textContent = shown ? text.dataset.text : "";
      noMatch.querySelector("[data-role=add-client-open]").hidden = !shown;
    }
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
      nobody(!clients.length);
      if (!clients.length) {
        close();
        return;
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
      if (!q) {
        close();
        nobody(false);
        return;
      }
      const result = await T.request(T.url(config.urls.apiClients, {}, { q: q }));
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

    if (noMatch) wireAddClient(root.closest("form"), input, function (client) {
      clients = [client];
      nobody(false);
      choose(0);
    });
  }

  /* The small form for a new client inside "Boka med klient": its fields belong to a form of
     their own (forms cannot nest), posted as JSON to the API (POST /therapist/clients); 422
     errors are shown per field, any other refusal in words. */
  function wireAddClient(bookForm, search, chosen) {
    const box = bookForm.querySelector("[data-role=add-client]");
    const opener = bookForm.querySelector("[data-role=add-client-open]");
    const form = document.getElementById(box.querySelector("[form]").getAttribute("form"));
    const message = box.querySelector("[data-role=add-client-message]");

    function show(open) {
      box.hidden = !open;
      opener.setAttribute("aria-expanded", String(open));
    }

    function clear() {
      message.textContent = "";
      box.querySelectorAll("[data-error-for]").forEach(function (el) { el.textContent = ""; });
      box.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    }

    opener.addEventListener("click", function () {
      const first = form.elements.namedItem("first_name");
      const typed = search.value.trim();
      if (!first.value && typed) first.value = typed.charAt(0).toLocaleUpperCase(config.locale) + typed.slice(1);
      clear();
      show(true);
      const empty = Array.from(form.elements).find(function (el) { return el.matches("input") && !el.value; });
      (empty || first).focus();
    });

    box.querySelector("[data-role=add-client-close]").addEventListener("click", function () {
      show(false);
      opener.focus();
    });

    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      if (form.dataset.busy) return;
      form.dataset.busy = "1";
      clear();
      const body = {};
      new FormData(form).forEach(function (value, key) { body[key] = value; });
      const result = await T.request(form.action, { method: "POST", json: body });
      delete form.dataset.busy;
      if (result.ok) {
        const c = result.data;
        form.reset();
        show(false);
        chosen(c);
        const status = (bookForm.closest("dialog") || document).querySelector("[data-role=status]");
        if (status) status.textContent = T.format(S.clientAdded, { name: c.first_name + " " + c.last_name });
        const mode = bookForm.querySelector("[name=mode]:checked") ? null : bookForm.querySelector("[name=mode]");
        (mode || bookForm.querySelector("button[type=submit]:not([form])")).focus();
        return;
      }
      const detail = result.data && result.data.detail;
      if (result.status === 422 && Array.isArray(detail)) {
        let first = null;
        const loose = [];
        detail.forEach(function (error) {
          const field = (error.loc || []).slice(-1)[0];
          const input = form.elements.namedItem(field);
          const where = input && box.querySelector("[data-error-for='" + field + "']");
          if (!where) { loose.push(error.msg); return; }
          where.textContent = (where.textContent + " " + error.msg).trim();
          input.setAttribute("aria-invalid", "true");
          input.setAttribute("aria-describedby", where.id);
          if (!first) first = input;
        });
        message.textContent = loose.join(" ");
        if (first) first.focus();
      } else {
        message.textContent = T.reasonOf(result, S.failed);
      }
    });
  }

  // The time off page links each booking inside it here (?tid=): its booking view, at once.
  if (config.initialSlot) openSlot(config.initialSlot, null);
})();
