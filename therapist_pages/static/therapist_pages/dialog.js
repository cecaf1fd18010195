/* Tidbok, the therapist's pages: requests with the CSRF token, native modal dialogs
   (showModal: the page behind is inert, Escape closes, focus returns to what opened it),
   panels toggled by buttons, and forms that post in the background and answer JSON:
   200 {message}, 422 {errors: {field: [..]}}, 409 {code, detail}; 401 when the session has
   ended, and the page goes to the log-in. No inline scripts (CSP): what this script needs from
   the server is on its own <script> element (data-login-url, data-failed). */
(function () {
  "use strict";
  const own = document.currentScript.dataset;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* fetch, never throwing: {ok, status, data} with data parsed from JSON when it is JSON. */
  async function request(url, options) {
    const opts = Object.assign({ method: "GET", credentials: "same-origin" }, options || {});
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    if (opts.method !== "GET") headers["X-CSRFToken"] = csrfToken();
    if (opts.json !== undefined) {
      opts.body = JSON.stringify(opts.json);
      headers["Content-Type"] = "application/json";
      delete opts.json;
    }
    opts.headers = headers;
    let response;
    try {
      response = await fetch(url, opts);
    } catch (e) {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    try {
      data = type.includes("json") ? await response.json() : await response.text();
    } catch (e) {
      data = null;
    }
    if (response.status === 401) toLogIn(data);
    return { ok: response.ok, status: response.status, data: data };
  }

  /* Not logged in any more (401, from these pages or from the JSON API): to the log-in page,
     and back to this page after it. */
  function toLogIn(data) {
    const target = new URL((data && data.login_url) || own.loginUrl, window.location.href);
    target.searchParams.set("next", window.location.pathname + window.location.search);
    window.location.assign(target.href);
  }

  /* A URL from one the server gave, its {names} filled in ("/kalender/tider/{slot_id}/", as
     tidbok.http.url_template makes them), and with a query if one is given. */
  function url(template, values, query) {
    const path = template.replace(/\{(\w+)\}/g, function (_, key) {
      if (!values || !(key in values)) throw new Error("No value for {" + key + "} in " + template);
      return encodeURIComponent(values[key]);
    });
    const result = new URL(path, window.location.href);
    Object.entries(query || {}).forEach(function ([key, value]) { result.searchParams.set(key, value); });
    return result.href;
  }

  /* The reason for a refusal in words, from these pages or from the JSON API. */
  function reasonOf(result, fallback) {
    const d = result.data;
    if (d && typeof d === "object") {
      if (typeof d.detail === "string") return d.detail;
      if (Array.isArray(d.detail)) return d.detail.map(function (x) { return x.msg; }).join(" ");
      if (d.errors) return Object.values(d.errors).flat().join(" ");
    }
    return fallback;
  }

  function format(text, values) {
    return text.replace(/%\((\w+)\)[sd]/g, function (_, key) { return values[key]; });
  }

  const FOCUSABLE = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  }

  function focusStart(container) {
    const heading = container.querySelector("h2[tabindex='-1']");
    if (heading) { heading.focus(); return; }
    const first = Array.from(container.querySelectorAll(FOCUSABLE)).find(visible);
    if (first) first.focus();
  }

  function openDialog(dialog, opener) {
    if (opener) dialog.tidbokOpener = opener;
    if (!dialog.open) dialog.showModal();
    focusStart(dialog);
  }

  function closeDialog(dialog) {
    if (dialog.open) dialog.close();
  }

  /* Focus goes back to what opened the dialog (an event in the calendar is re-rendered after
     a change, so its successor with the same slot id stands in for it). */
  document.addEventListener("close", function (e) {
    const dialog = e.target;
    if (!(dialog instanceof HTMLDialogElement)) return;
    // Another dialog opened meanwhile (a new slot's view after the new-slot form): it keeps focus.
    if (document.querySelector("dialog[open]")) return;
    let opener = dialog.tidbokOpener;
    if (opener && !opener.isConnected && opener.dataset && opener.dataset.slotId) {
      opener = document.querySelector("#calendar [data-slot-id='" + opener.dataset.slotId + "']");
    }
    if (opener && opener.isConnected) opener.focus();
    dialog.dispatchEvent(new CustomEvent("tidbok:closed", { bubbles: true }));
  }, true);

  /* The page behind a modal dialog is inert, but Tab from its last control would leave for
     the browser's own controls: wrap around inside the dialog instead. */
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Tab") return;
    const dialog = e.target.closest && e.target.closest("dialog[open]");
    if (!dialog) return;
    const items = Array.from(dialog.querySelectorAll(FOCUSABLE)).filter(visible);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement) ||
        document.activeElement.matches("h2[tabindex='-1']"))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });

  function messageBox(el) {
    const scope = el.closest("dialog") || document;
    return scope.querySelector("[data-role=message]");
  }

  function showMessage(el, text) {
    const box = messageBox(el);
    if (box) box.textContent = text || "";
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (box) { box.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
    });
    showMessage(form, "");
  }

  function showErrors(form, errors) {
    let first = null;
    const loose = [];
    Object.keys(errors).forEach(function (field) {
      const text = errors[field].join(" ");
      const box = form.querySelector("[data-error-for='" + field + "']");
      if (box) box.textContent = text; else loose.push(text);
      const inputs = form.querySelectorAll("[name='" + field + "']");
      inputs.forEach(function (input) {
        input.setAttribute("aria-invalid", "true");
        if (box && box.id) input.setAttribute("aria-describedby", box.id);
      });
      const visibleInput = Array.from(inputs).find(visible) || (field === "client" && form.querySelector("[role=combobox]"));
      if (!first && visibleInput) first = visibleInput;
    });
    if (loose.length) showMessage(form, loose.join(" "));
    if (first) first.focus();
  }

  /* Buttons with data-action="toggle" show or hide the panel they control; one panel at a time. */
  function toggle(button) {
    const id = button.getAttribute("aria-controls");
    const panel = document.getElementById(id);
    if (!panel) return;
    const show = panel.hidden;
    const scope = button.closest("dialog") || document;
    scope.querySelectorAll(".panel").forEach(function (other) {
      if (other !== panel) other.hidden = true;
    });
    panel.hidden = !show;
    scope.querySelectorAll("[data-action=toggle]").forEach(function (b) {
      const target = document.getElementById(b.getAttribute("aria-controls"));
      if (b.hasAttribute("aria-expanded")) b.setAttribute("aria-expanded", String(!!target && !target.hidden));
    });
    if (show) {
      const first = Array.from(panel.querySelectorAll(FOCUSABLE)).find(visible);
      if (first) first.focus();
    } else {
      const opener = scope.querySelector("[data-action=toggle][aria-controls='" + id + "'][aria-expanded]");
      if (opener) opener.focus();
    }
  }

  document.addEventListener("click", function (e) {
    const button = e.target.closest("[data-action]");
    if (!button) return;
    if (button.dataset.action === "toggle") {
      e.preventDefault();
      toggle(button);
    } else if (button.dataset.action === "close") {
      e.preventDefault();
      closeDialog(button.closest("dialog"));
    }
  });

  /* Enter in a field submits the form with its first submit button. A fieldset that has a
     submit button of its own (with a formaction: the booking view's "Boka varje vecka…")
     takes Enter in its fields for that button, so the number of weeks never books just one. */
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.defaultPrevented || !(e.target instanceof HTMLInputElement)) return;
    const fieldset = e.target.closest("fieldset");
    const button = fieldset && fieldset.querySelector("button[type=submit][formaction]");
    if (!button || !e.target.form || button.form !== e.target.form) return;
    e.preventDefault();
    e.target.form.requestSubmit(button);
  });

  /* Forms marked data-ajax post in the background (to the button's formaction when it has
     one); on success they fire "tidbok:done" (bubbling, with the answer as detail) for the
     page's script to act on, or go where the answer's `redirect` says (R32's preview page). */
  document.addEventListener("submit", async function (e) {
    const form = e.target;
    if (!form.hasAttribute("data-ajax")) return;
    e.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach(function (b) { b.disabled = true; });
    clearErrors(form);
    const submitter = e.submitter && e.submitter.hasAttribute("formaction") ? e.submitter : null;
    const result = await request(submitter ? submitter.formAction : form.action, { method: "POST", body: new FormData(form) });
    buttons.forEach(function (b) { b.disabled = false; });
    delete form.dataset.busy;
    if (result.ok && result.data && result.data.redirect) {
      window.location.assign(result.data.redirect);
    } else if (result.ok) {
      form.dispatchEvent(new CustomEvent("tidbok:done", { bubbles: true, detail: result.data || {} }));
    } else if (result.status === 422 && result.data && result.data.errors) {
      showErrors(form, result.data.errors);
    } else if (result.status === 409) {
      showMessage(form, reasonOf(result, own.failed));
      const box = messageBox(form);
      if (box) box.scrollIntoView({ block: "nearest" });
    } else {
      showMessage(form, own.failed);
    }
  });

  window.Tidbok = {
    request: request,
    url: url,
    reasonOf: reasonOf,
    format: format,
    openDialog: openDialog,
    closeDialog: closeDialog,
    showMessage: showMessage,
  };
})();
