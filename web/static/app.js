/* article-search: progressive enhancement of the server-rendered search page.
 *
 * Without this file everything works with plain form submissions and links.
 * With it: results update as the reader types (debounced; stale answers are
 * dropped), facet and date changes and result links (sort, pages, chips,
 * timeline bars) update the results without a page load, the URL always holds
 * the state (Back/Forward restore it), and the search box offers completions
 * in an accessible listbox.
 *
 * The server renders the same results region for a fetch that sends
 * "X-Requested-With: fetch"; this file swaps that region in. After each swap
 * it fires `search:updated` on document ({detail: {url, total}}); a failed
 * update fires `search:error` ({detail: {url, status, message}}). While a
 * request is in flight #search-form has data-state="loading", else "idle".
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var form = document.getElementById("search-form");
  if (!form || !window.fetch || !window.history || !window.URLSearchParams) {
    return;
  }
  var input = document.getElementById("q");
  var errorBox = document.getElementById("search-error");
  var listbox = document.getElementById("q-suggestions");
  var wide = window.matchMedia("(min-width: 700px)");

  var DEBOUNCE_MS = 200;
  var SUGGEST_DEBOUNCE_MS = 120;
  var PAUSE_MS = 1000; // typing after a pause this long starts a new history entry
  var DATE_SETTLE_MS = 600; // a date typed segment by segment is applied after this pause

  var sequence = 0; // numbers search requests; only the newest may render
  var controller = null;
  var typingTimer = null;
  var dateTimer = null;
  var lastDateKey = 0; // when a key was last pressed in a date field
  var pauseTimer = null;
  var typingBurst = false; // true while one history entry follows the typing
  var shownUrl = location.pathname + location.search; // the state on screen

  form.dataset.state = "idle";
  history.replaceState({ search: true }, "", location.href);

  function region() {
    return document.getElementById("search-region");
  }

  /* The URL the form would submit, minus empty fields. */
  function formUrl() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value !== "string") {
        return;
      }
      if ((name === "q" || name === "from" || name === "to") && value.trim() === "") {
        return;
      }
      params.append(name, value);
    });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function relative(url) {
    var parsed = new URL(url, location.href);
    return parsed.pathname + parsed.search;
  }

  function setBusy(busy) {
    form.dataset.state = busy ? "loading" : "idle";
    var current = region();
    if (current) {
      current.setAttribute("aria-busy", busy ? "true" : "false");
    }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  /* ---- Swapping the results region in, keeping focus and open panels ---- */

  function focusKey(element) {
    if (!element || !region() || !region().contains(element)) {
      return null;
    }
    if (element.type === "checkbox") {
      return { name: element.name, value: element.value };
    }
    if (element.id) {
      return { id: element.id };
    }
    return null;
  }

  function findByKey(root, key) {
    if (!key) {
      return null;
    }
    if (key.id) {
      return root.querySelector("#" + CSS.escape(key.id));
    }
    var boxes = root.querySelectorAll('input[type="checkbox"][name="' + CSS.escape(key.name) + '"]');
    for (var i = 0; i < boxes.length; i += 1) {
      if (boxes[i].value === key.value) {
        return boxes[i];
      }
    }
    return null;
  }

  function sameSlot(a, b) {
    if (!a || !b || a.nodeType !== 1 || b.nodeType !== 1) {
      return false;
    }
    if (a.id || b.id) {
      return a.id === b.id;
    }
    return a.tagName === b.tagName && a.className === b.className;
  }

  function copyAttributes(from, to) {
    Array.prototype.slice.call(to.attributes).forEach(function (attribute) {
      if (!from.hasAttribute(attribute.name)) {
        to.removeAttribute(attribute.name);
      }
    });
    Array.prototype.slice.call(from.attributes).forEach(function (attribute) {
      to.setAttribute(attribute.name, attribute.value);
    });
  }

  /* Replace oldNode by newNode, but keep the `keep` element inside it in the
   * document (its content updated), so its aria-live announcement fires. */
  function replaceKeeping(oldNode, newNode, keep) {
    if (oldNode === keep) {
      copyAttributes(newNode, keep);
      keep.innerHTML = newNode.innerHTML;
      return;
    }
    if (!keep || !oldNode.contains(keep)) {
      oldNode.replaceWith(newNode);
      return;
    }
    copyAttributes(newNode, oldNode);
    var branch = Array.prototype.find.call(oldNode.children, function (child) {
      return child.contains(keep);
    });
    var newKids = Array.prototype.slice.call(newNode.childNodes);
    var twinIndex = newKids.findIndex(function (child) {
      return sameSlot(child, branch);
    });
    if (twinIndex < 0) {
      oldNode.replaceChildren.apply(oldNode, newKids);
      return;
    }
    Array.prototype.slice.call(oldNode.childNodes).forEach(function (child) {
      if (child !== branch) {
        child.remove();
      }
    });
    newKids.slice(0, twinIndex).forEach(function (child) {
      oldNode.insertBefore(child, branch);
    });
    newKids.slice(twinIndex + 1).forEach(function (child) {
      oldNode.appendChild(child);
    });
    replaceKeeping(branch, newKids[twinIndex], keep);
  }

  function swap(fresh) {
    var old = region();
    var key = focusKey(document.activeElement);
    var openPanels = {};
    old.querySelectorAll("details[id]").forEach(function (details) {
      openPanels[details.id] = details.open;
    });
    var incoming = document.adoptNode(fresh);
    incoming.querySelectorAll("details[id]").forEach(function (details) {
      if (details.id in openPanels) {
        details.open = openPanels[details.id];
      }
    });
    replaceKeeping(old, incoming, document.getElementById("total-status"));
    var current = region();
    current.setAttribute("aria-busy", "false");
    var again = findByKey(current, key);
    if (again) {
      var closed = again.closest("details:not([open])");
      if (closed) {
        closed.open = true;
      }
      again.focus();
    }
    fitFilters();
  }

  /* ---- Fetching a state ---- */

  function update(url, mode, options) {
    options = options || {};
    clearTimeout(dateTimer);
    dateTimer = null;
    var mine = (sequence += 1);
    if (controller) {
      controller.abort();
    }
    controller = new AbortController();
    setBusy(true);
    var status = 0;
    fetch(url, {
      headers: { "X-Requested-With": "fetch", Accept: "text/html" },
      credentials: "same-origin",
      signal: controller.signal,
    })
      .then(function (response) {
        status = response.status;
        return response.text();
      })
      .then(function (html) {
        if (mine !== sequence) {
          return; // a newer request was made: this answer is stale
        }
        setBusy(false);
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("search-region");
        if (status !== 200 || !fresh) {
          var message = doc.querySelector("[data-error-message]");
          fail(url, status, message ? message.textContent.trim() : "");
          return;
        }
        hideError();
        if (mode === "push") {
          history.pushState({ search: true }, "", url);
        } else if (mode === "replace") {
          history.replaceState({ search: true }, "", url);
        }
        shownUrl = relative(url);
        if (!options.keepInput) {
          input.value = new URL(url, location.href).searchParams.get("q") || "";
        }
        swap(fresh);
        document.title = fresh.dataset.title || document.title;
        relink(fresh.dataset);
        if (options.focusResults) {
          var heading = document.getElementById("results-heading");
          heading.focus();
          region().scrollIntoView({ block: "start" });
        }
        document.dispatchEvent(
          new CustomEvent("search:updated", {
            detail: { url: shownUrl, total: Number(fresh.dataset.total) },
          })
        );
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") {
          return;
        }
        if (mine === sequence) {
          setBusy(false);
          fail(url, 0, "");
        }
      });
  }

  /* Links outside the region that describe the current search. */
  function relink(data) {
    [
      ["feed-alternate", data.feedUrl],
      ["feed-link", data.feedUrl],
      ["json-link", data.apiUrl],
    ].forEach(function (pair) {
      var link = document.getElementById(pair[0]);
      if (link && pair[1]) {
        link.setAttribute("href", pair[1]);
      }
    });
  }

  function fail(url, status, message) {
    message =
      message ||
      (status
        ? "Something went wrong. Please try again."
        : "Could not reach the server. Check your connection and try again.");
    showError(message);
    document.dispatchEvent(
      new CustomEvent("search:error", { detail: { url: relative(url), status: status, message: message } })
    );
  }

  function updateFromForm(mode) {
    var url = formUrl();
    if (relative(url) !== shownUrl) {
      update(url, mode);
    }
  }

  /* ---- Events ---- */

  input.addEventListener("input", function () {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () {
      if (relative(formUrl()) === shownUrl) {
        return;
      }
      update(formUrl(), typingBurst ? "replace" : "push", { keepInput: true });
      typingBurst = true;
    }, DEBOUNCE_MS);
    clearTimeout(pauseTimer);
    pauseTimer = setTimeout(function () {
      typingBurst = false;
    }, PAUSE_MS);
    scheduleSuggestions();
  });

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target === input) {
      return; // typing is handled above; change on blur would repeat it
    }
    if (target.type === "date") {
      // Typing a year makes a valid date after each digit (0002, 0020, 0202):
      // skip those, and wait for a pause (or leaving the field), so the
      // re-rendered field is not swapped in under the reader's keystrokes.
      if (target.value && (!target.validity.valid || Number(target.value.slice(0, 4)) < 1000)) {
        return; // half-typed date
      }
      clearTimeout(dateTimer);
      dateTimer = setTimeout(settleDates, DATE_SETTLE_MS);
      return;
    }
    typingBurst = false;
    updateFromForm("push");
  });

  function isDateField(element) {
    return Boolean(element && element.type === "date" && form.contains(element));
  }

  /* Apply typed dates once the reader stops typing in the date fields. */
  function settleDates() {
    if (isDateField(document.activeElement) && Date.now() - lastDateKey < DATE_SETTLE_MS) {
      dateTimer = setTimeout(settleDates, DATE_SETTLE_MS);
      return;
    }
    typingBurst = false;
    updateFromForm("push");
  }

  form.addEventListener("keydown", function (event) {
    if (isDateField(event.target)) {
      lastDateKey = Date.now();
    }
  });

  form.addEventListener("focusout", function (event) {
    if (isDateField(event.target) && dateTimer && !isDateField(event.relatedTarget)) {
      typingBurst = false;
      updateFromForm("push"); // left the dates: apply them now
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(typingTimer);
    closeSuggestions();
    typingBurst = false;
    var url = formUrl();
    update(url, relative(url) === shownUrl ? "replace" : "push");
  });

  form.addEventListener("click", function (event) {
    var link = event.target.closest("a");
    if (!link || !region() || !region().contains(link)) {
      return;
    }
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) {
      return;
    }
    if (event.shiftKey || event.altKey) {
      return;
    }
    var href = link.getAttribute("href");
    var target = href && new URL(href, location.href);
    if (!target || target.origin !== location.origin || target.pathname !== form.getAttribute("action")) {
      return; // article pages and everything else: ordinary navigation
    }
    event.preventDefault();
    clearTimeout(typingTimer); // a keystroke's pending search must not follow the link's
    typingBurst = false;
    update(target.href, "push", { focusResults: link.hasAttribute("data-focus-results") });
  });

  window.addEventListener("popstate", function () {
    if (location.pathname + location.search === shownUrl) {
      return; // only the #fragment changed (e.g. the skip link)
    }
    clearTimeout(typingTimer);
    typingBurst = false;
    closeSuggestions();
    update(location.href, "none");
  });

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

  /* ---- Completions: the ARIA 1.2 combobox pattern ---- */

  var suggestUrl = form.dataset.suggestUrl;
  var suggestTimer = null;
  var suggestSequence = 0;
  var suggestController = null;
  var activeOption = -1;
  var options = [];

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);

  function scheduleSuggestions() {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(fetchSuggestions, SUGGEST_DEBOUNCE_MS);
  }

  function fetchSuggestions() {
    var text = input.value;
    var words = text.trim().split(/\s+/);
    if (!suggestUrl || words[words.length - 1].length < 2 || /\s$/.test(text)) {
      closeSuggestions();
      return;
    }
    var mine = (suggestSequence += 1);
    if (suggestController) {
      suggestController.abort();
    }
    suggestController = new AbortController();
    fetch(suggestUrl + "?" + new URLSearchParams({ q: text, limit: "8" }).toString(), {
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

  var KIND_LABELS = { title: "Article", author: "Author", region: "Region", theme: "Theme", term: "" };

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
      var kind = KIND_LABELS[suggestion.kind] || "";
      if (kind) {
        var label = document.createElement("span");
        label.className = "suggestion-kind";
        label.textContent = kind;
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

  function quoted(value) {
    return '"' + value.replace(/"/g, " ") + '"';
  }

  /* What choosing a suggestion puts in the box: terms complete the query,
   * people and places become field searches, titles are searched as a phrase. */
  function suggestionQuery(suggestion) {
    var head = input.value.replace(/\S*$/, "");
    if (suggestion.kind === "term") {
      return suggestion.text;
    }
    if (suggestion.kind === "title") {
      return quoted(suggestion.text);
    }
    return head + suggestion.kind + ":" + quoted(suggestion.text);
  }

  function choose(index) {
    var suggestion = options[index];
    if (!suggestion) {
      return;
    }
    input.value = suggestionQuery(suggestion);
    closeSuggestions();
    clearTimeout(typingTimer);
    typingBurst = false;
    update(formUrl(), "push", { keepInput: true });
  }

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
