/* article-search: what the search page adds to htmx, and the completions list.
 *
 * Without script everything works with plain form submissions and links. With
 * htmx (attributes in web/templates/search.html, settings from web/search_form.py) the
 * results region is fetched as the reader types or changes a filter, morphed in
 * (idiomorph keeps focus and the live region), and the URL follows. This file
 * adds the rules htmx has no attribute for:
 * - one history entry per burst of typing, none for a state already shown;
 * - Back and Forward fetch the state of the URL (htmx keeps no snapshots);
 * - a keystroke's pending search is dropped once a link, a filter or Back
 *   has asked for another state since;
 * - dates typed segment by segment are applied once complete, after a pause;
 * - empty fields stay out of the URL, the box follows the URL, errors are shown;
 * - the filters are a sidebar on wide screens and a panel on phones;
 * - the search box offers completions (the ARIA 1.2 combobox pattern);
 * - when the server records searches, the page reports each search the reader
 *   settles on and the result opened from it, with a random id of this page
 *   view only (web/recording.py, web/beacon.py);
 * - a keystroke's results come without facet counts and the timeline: those on
 *   screen stay, dimmed and inert, until the reader pauses and the same state is
 *   asked for with them (web/search_form.py).
 * While a request is in flight #search-form has data-state="loading", else "idle".
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var wide = window.matchMedia("(min-width: 700px)");

  /* ---- Filters: a sidebar on wide screens, a collapsible panel on phones ---- */

  function fitFilters() {
    var filters = document.getElementById("filters");
    if (!filters) {
      return;
    }
    var summary = filters.querySelector("summary");
    if (wide.matches) {
      filters.open = true;
      summary.setAttribute("tabindex", "-1");
    } else {
      summary.removeAttribute("tabindex");
    }
  }

  document.addEventListener("click", function (event) {
    if (wide.matches && event.target.closest(".filters-summary")) {
      event.preventDefault(); // the sidebar stays open
    }
  });
  if (wide.addEventListener) {
    wide.addEventListener("change", fitFilters);
  }
  if (!wide.matches) {
    var panel = document.getElementById("filters");
    if (panel) {
      panel.open = false;
    }
  }
  fitFilters();

  var form = document.getElementById("search-form");
  if (!form || !window.htmx || !window.Idiomorph) {
    return; // not the search page, or the page works as plain forms and links
  }
  var input = document.getElementById("q");
  var errorBox = document.getElementById("search-error");
  var listbox = document.getElementById("q-suggestions");
  var settings = form.dataset;
  var events = searchEvents();

  form.dataset.state = "idle";
  var shownUrl = location.pathname + location.search; // the state on screen
  var asked = 0; // how many states links, filters, the form and Back have asked for
  var askedBefore = new WeakMap(); // a keystroke -> `asked` when it was typed
  var typingBurst = false; // true while one history entry follows the typing
  var pauseTimer = null;

  function isDateField(element) {
    return Boolean(element && element.type === "date" && form.contains(element));
  }

  function relative(url) {
    var parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  }

  function region() {
    return document.getElementById("search-region");
  }

  /* A reader's choices survive a morph: which panels are open. */
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node) {
    return !(name === "open" && node.tagName === "DETAILS");
  };

  /* A keystroke's answer marks its facets and timeline data-deferred: the ones on screen
   * are kept, dimmed and inert (their links and boxes are the last counted search's),
   * until the counts come (countsLater). */
  Idiomorph.defaults.callbacks.beforeNodeMorphed = function (oldNode, newNode) {
    var deferred = newNode.nodeType === 1 && newNode.hasAttribute("data-deferred");
    if (!deferred || oldNode.nodeType !== 1 || oldNode.hasAttribute("data-deferred")) {
      return true;
    }
    oldNode.classList.add("is-stale");
    oldNode.inert = true;
    return false;
  };

  var countsTimer = null;

  /* The region shows a keystroke's answer: ask for the same state with its counts once
   * the reader has paused countsDelayMs (a keystroke, a link or a filter cancels). */
  function countsLater() {
    clearTimeout(countsTimer);
    if (region().querySelector("[data-deferred], .is-stale")) {
      countsTimer = setTimeout(function () {
        htmx.trigger(form, "counts");
      }, Number(settings.countsDelayMs));
    }
  }

  /* Which requests go: typing and dates have triggers of their own, so their change
   * events are not one; a keystroke older than the last state asked for is stale. */
  form.addEventListener("htmx:confirm", function (event) {
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "change" && (trigger.target === input || isDateField(trigger.target))) {
      event.preventDefault();
    } else if (trigger && trigger.type === "input") {
      if (askedBefore.get(trigger) !== asked) {
        event.preventDefault(); // another state was asked for after this keystroke
      }
    } else if (trigger && trigger.type === "counts") {
      // the state on screen, counted: no other state is asked for
    } else {
      clearTimeout(countsTimer);
      asked += 1;
      typingBurst = false;
      events.actedOn();
    }
  });

  /* The form's URL as the browser would submit it (spaces as +), empty fields left out. */
  form.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt !== form) {
      return;
    }
    var fields = event.detail.formData;
    var params = new URLSearchParams();
    fields.forEach(function (value, name) {
      if (typeof value === "string" && !(/^(q|from|to)$/.test(name) && value.trim() === "")) {
        params.append(name, value);
      }
    });
    Array.from(fields.keys()).forEach(function (name) {
      fields.delete(name);
    });
    var query = params.toString();
    event.detail.path = form.getAttribute("action") + (query ? "?" + query : "");
    var trigger = event.detail.triggeringEvent;
    if (trigger && trigger.type === "input") {
      event.detail.headers[settings.typingHeader] = "1"; // results now, counts at a pause
    }
  });

  form.addEventListener("htmx:beforeRequest", function () {
    form.dataset.state = "loading";
    region().setAttribute("aria-busy", "true");
  });

  form.addEventListener("htmx:afterRequest", function () {
    form.dataset.state = "idle";
    region().setAttribute("aria-busy", "false");
  });

  function triggerType(detail) {
    var trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    return trigger ? trigger.type : "";
  }

  /* A state the typing asked for: a keystroke's, or its counts once the reader paused. */
  function typed(detail) {
    var type = triggerType(detail);
    return type === "input" || type === "counts";
  }

  /* One history entry per burst of typing; a state already shown is not a new entry. */
  document.body.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var history = event.detail.history;
    if (relative(history.path) === shownUrl || (typed(event.detail) && typingBurst)) {
      history.type = "replace";
    }
    if (triggerType(event.detail) !== "counts") {
      typingBurst = typed(event.detail); // the counts of a state shown change no burst
    }
  });

  input.addEventListener("input", function (event) {
    askedBefore.set(event, asked);
    clearTimeout(countsTimer);
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(function () {
      typingBurst = false;
    }, Number(settings.typingPauseMs));
  });

  form.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "search-region") {
      return;
    }
    var path = event.detail.pathInfo.finalRequestPath;
    shownUrl = relative(path);
    hideError();
    if (!typed(event.detail)) {
      input.value = new URL(path, location.href).searchParams.get("q") || "";
    }
    events.shown(typed(event.detail));
    countsLater();
    var source = event.detail.requestConfig.elt;
    if (source && source.hasAttribute("data-focus-results")) {
      document.getElementById("results-heading").focus();
      region().scrollIntoView({ block: "start" });
    }
    fitFilters();
  });

  /* Back and Forward: fetch the state of the URL into the region, as a link would
   * (htmx, keeping no snapshots, would reload the whole body instead). */
  document.body.addEventListener("htmx:historyCacheMiss", function (event) {
    event.preventDefault();
  });

  window.addEventListener("popstate", function () {
    closeSuggestions();
    if (location.pathname + location.search === shownUrl) {
      return; // only the #fragment changed (e.g. the skip link)
    }
    // A keystroke or link after it may abort it (hx-sync): that is no error here.
    htmx.ajax("get", location.href, { source: region(), push: "false" }).catch(function () {});
  });

  /* ---- Errors: the message the server gave, else a general one ---- */

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  form.addEventListener("htmx:responseError", function (event) {
    var doc = new DOMParser().parseFromString(event.detail.xhr.responseText, "text/html");
    var message = doc.querySelector("[data-error-message]");
    showError(message ? message.textContent.trim() : "Something went wrong. Please try again.");
  });

  form.addEventListener("htmx:sendError", function () {
    showError("Could not reach the server. Check your connection and try again.");
  });

  /* ---- Dates: applied once the reader stops typing in the date fields ---- */

  var dateTimer = null;
  var lastDateKey = 0; // when a key was last pressed in a date field
  var settleMs = Number(settings.dateSettleMs);

  function applyDates() {
    clearTimeout(dateTimer);
    dateTimer = null;
    htmx.trigger(form, "apply-dates");
  }

  function settleDates() {
    if (isDateField(document.activeElement) && Date.now() - lastDateKey < settleMs) {
      dateTimer = setTimeout(settleDates, settleMs);
      return;
    }
    applyDates();
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!isDateField(target)) {
      return;
    }
    // Typing a year makes a valid date after each digit (0002, 0020, 0202): skip
    // those, and wait for a pause (or leaving the field), so the re-rendered field
    // is not swapped in under the reader's keystrokes.
    if (target.value && (!target.validity.valid || Number(target.value.slice(0, 4)) < 1000)) {
      return; // half-typed date
    }
    clearTimeout(dateTimer);
    dateTimer = setTimeout(settleDates, settleMs);
  });

  form.addEventListener("keydown", function (event) {
    if (isDateField(event.target)) {
      lastDateKey = Date.now();
    }
  });

  form.addEventListener("focusout", function (event) {
    if (isDateField(event.target) && dateTimer && !isDateField(event.relatedTarget)) {
      applyDates(); // left the dates: apply them now
    }
  });

  /* ---- Analytics: one event per search the reader settles on, and the result opened ----
   * A search shown is settled once it has stayed on screen settleMs (the pause that
   * ends a burst of typing), at once when no keystroke asked for it (a submit, a
   * filter, a link, the page's first load), and when the reader acts on it (opens a
   * result, picks a filter, leaves the page). A keystroke's search replaced before
   * then is never reported. The page view's id is random, made here and kept in
   * this closure only: no cookie, no storage. Nothing is sent when the server does
   * not record (no events URL), or for the page with nothing searched. */

  function searchEvents() {
    var url = settings.eventsUrl;
    var noop = { shown: function () {}, actedOn: function () {} };
    if (!url || !navigator.sendBeacon || !window.crypto || !crypto.getRandomValues) {
      return noop;
    }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var view = Array.from(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
    var count = 0; // searches reported in this view
    var lastKey = null; // the last one reported: the same search again is not new
    var current = null; // the search on screen: its data, and its number once reported
    var timer = null;

    function send(event) {
      event.view = view;
      navigator.sendBeacon(url, JSON.stringify(event));
    }

    /* What makes a search another: not its page (a result opened on page 2 belongs to
     * the search, at its place in all pages), nor a space typed after the last word. */
    function searchKey(params) {
      var fields = new URLSearchParams(params);
      fields.delete("page");
      fields.set("q", (fields.get("q") || "").trim());
      return fields.toString();
    }

    function settle() {
      clearTimeout(timer);
      if (!current || current.seq) {
        return;
      }
      var key = searchKey(current.data.params);
      if (key !== lastKey) {
        count += 1;
        lastKey = key;
        send({
          type: "search",
          seq: count,
          params: current.data.params,
          results: current.data.results,
          searched: current.data.searched,
        });
      }
      current.seq = count;
    }

    function shown(typedNow) {
      clearTimeout(timer);
      var data = region().dataset.searchEvent;
      current = data ? { data: JSON.parse(data), seq: 0 } : null;
      if (current && typedNow) {
        timer = setTimeout(settle, Number(settings.settleMs));
      } else {
        settle();
      }
    }

    /* Another state is asked for: the search on screen was settled on, unless the box
     * holds other words by now (the reader is still typing, e.g. pressed Enter). */
    function actedOn() {
      if (current && (new URLSearchParams(current.data.params).get("q") || "").trim() === input.value.trim()) {
        settle();
      }
    }

    function opened(event) {
      var link = event.target.closest && event.target.closest("#results .hit-title a");
      if (!link || !current || (event.type === "auxclick" && event.button !== 1)) {
        return;
      }
      var item = link.closest("li");
      var list = item.parentElement;
      var position = Number(list.getAttribute("start") || 1) + Array.prototype.indexOf.call(list.children, item);
      settle();
      send({ type: "click", seq: current.seq, position: position });
    }

    document.addEventListener("click", opened);
    document.addEventListener("auxclick", opened);
    window.addEventListener("pagehide", settle);
    shown(false);
    return { shown: shown, actedOn: actedOn };
  }

  /* ---- Completions: the ARIA 1.2 combobox pattern, over /api/suggest ---- */

  var suggestTimer = null;
  var suggestSequence = 0;
  var suggestController = null;
  var activeOption = -1;
  var options = [];

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);

  input.addEventListener("input", function () {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(fetchSuggestions, Number(settings.suggestDelayMs));
  });

  function fetchSuggestions() {
    var text = input.value;
    var words = text.trim().split(/\s+/);
    if (words[words.length - 1].length < Number(settings.suggestMinPrefix) || /\s$/.test(text)) {
      closeSuggestions();
      return;
    }
    var mine = (suggestSequence += 1);
    if (suggestController) {
      suggestController.abort();
    }
    suggestController = new AbortController();
    fetch(settings.suggestUrl + "?" + new URLSearchParams({ q: text }).toString(), {
      headers: { Accept: "application/json" },
      signal: suggestController.signal,
    })
      .then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      })
      .then(function (data) {
        if (mine === suggestSequence && document.activeElement === input) {
          renderSuggestions(data.suggestions || []);
        }
      })
      .catch(function () {});
  }

  function renderSuggestions(found) {
    options = found;
    activeOption = -1;
    listbox.replaceChildren();
    if (!found.length) {
      closeSuggestions();
      return;
    }
    found.forEach(function (suggestion, index) {
      var item = document.createElement("li");
      item.id = "q-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      var text = document.createElement("span");
      text.textContent = suggestion.text;
      item.appendChild(text);
      if (suggestion.label) {
        var label = document.createElement("span");
        label.className = "suggestion-kind";
        label.textContent = suggestion.label;
        item.appendChild(label);
      }
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep focus in the input
      });
      item.addEventListener("click", function () {
        choose(index);
      });
      listbox.appendChild(item);
    });
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function closeSuggestions() {
    clearTimeout(suggestTimer);
    suggestSequence += 1;
    listbox.hidden = true;
    listbox.replaceChildren();
    options = [];
    activeOption = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    var items = listbox.querySelectorAll('[role="option"]');
    items.forEach(function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    activeOption = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  /* The server says what choosing a suggestion puts in the box (web/search_form.py). */
  function choose(index) {
    var suggestion = options[index];
    if (!suggestion) {
      return;
    }
    input.value = suggestion.query;
    closeSuggestions();
    form.requestSubmit();
  }

  form.addEventListener("submit", closeSuggestions);

  input.addEventListener("keydown", function (event) {
    var open = !listbox.hidden && options.length > 0;
    if (event.key === "ArrowDown") {
      if (!open) {
        fetchSuggestions();
        return;
      }
      event.preventDefault();
      highlight((activeOption + 1) % options.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(activeOption <= 0 ? options.length - 1 : activeOption - 1);
    } else if (event.key === "Enter" && open && activeOption >= 0) {
      event.preventDefault();
      choose(activeOption);
    } else if (event.key === "Escape" && open) {
      event.preventDefault(); // close the list, keep the text
      closeSuggestions();
    } else if (event.key === "Tab") {
      closeSuggestions();
    }
  });

  input.addEventListener("blur", function () {
    setTimeout(closeSuggestions, 100);
  });

  document.addEventListener("pointerdown", function (event) {
    if (!listbox.hidden && !event.target.closest(".combo")) {
      closeSuggestions();
    }
  });
})();
