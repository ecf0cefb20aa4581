// Siaga status page: live updates without a reload, and the action buttons.
// Polls /api/changes every second; when a site changed, fetches the server-rendered part of the
// page and swaps it in. All HTML comes from the server's templates (escaped there): this script
// never builds markup from data.
(function () {
  "use strict";
  var POLL_MS = 1000;
  var root = document.querySelector("[data-live]");
  var banner = document.getElementById("banner");

  function showBanner(text) {
    if (!banner) return;
    banner.textContent = text || "";
    banner.hidden = !text;
  }

  function withLang(url) {
    var sep = url.indexOf("?") < 0 ? "?" : "&";
    return url + sep + "lang=" + encodeURIComponent(document.documentElement.lang);
  }

  function fragment(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    return tpl.content;
  }

  function getText(url) {
    return fetch(withLang(url), {credentials: "same-origin"}).then(function (r) {
      if (r.status === 404) { location.reload(); return new Promise(function () {}); }  // room removed
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }

  // A card's data-key is "rank|name|site" (the site id has no "|"; a name may). Compared part by
  // part as the server sorts (rank, name, site): as one string, "aula besar|" came before "aula|".
  function sortKey(card) {
    var key = card.dataset.key || "", first = key.indexOf("|"), last = key.lastIndexOf("|");
    if (first < 0 || first === last) return [0, key, ""];
    return [parseInt(key.slice(0, first), 10) || 0, key.slice(first + 1, last), key.slice(last + 1)];
  }

  function compareKeys(a, b) {
    for (var i = 0; i < 3; i++) {
      if (a[i] < b[i]) return -1;
      if (a[i] > b[i]) return 1;
    }
    return 0;
  }

  function sortCards(grid) {
    var cards = Array.prototype.slice.call(grid.children);
    var sorted = cards.slice().sort(function (a, b) { return compareKeys(sortKey(a), sortKey(b)); });
    var same = sorted.every(function (c, i) { return c === cards[i]; });
    if (!same) sorted.forEach(function (c) { grid.appendChild(c); });
    var limit = parseInt(grid.dataset.limit || "0", 10);   // the page shows the first N rooms
    if (limit) sorted.slice(limit).forEach(function (c) { c.remove(); });
  }

  // Cards, or table rows (?view=table): each item carries data-site and its sort key.
  function updateOverview(sites) {
    var url = root.dataset.partial;
    var all = sites.length > 200;
    var generation = filterGeneration;
    if (!all) url += (url.indexOf("?") < 0 ? "?" : "&") + "ids=" + encodeURIComponent(sites.join(","));
    return getText(url).then(function (html) {
      if (generation !== filterGeneration) return;    // the filters changed meanwhile
      var part = fragment(html);
      if (all) { updateHeaderLed(part); root.replaceChildren(part); return; }
      var summary = part.getElementById("summary");
      if (summary) document.getElementById("summary").replaceWith(summary);
      updateHeaderLed(part);
      var grid = document.querySelector("[data-items]");
      var fresh = part.querySelectorAll("[data-items] > [data-site]");
      var seen = {};
      Array.prototype.forEach.call(fresh, function (card) {
        seen[card.dataset.site] = true;
        var old = document.getElementById(card.id);
        if (old) old.replaceWith(card); else grid.appendChild(card);
      });
      sites.forEach(function (site) {
        var gone = !seen[site] && document.getElementById("card-" + site);
        if (gone) gone.remove();
      });
      var empty = document.getElementById("empty");
      if (empty && grid.children.length) empty.remove();
      sortCards(grid);
    });
  }

  // The filter form works without JavaScript (a GET with ?q=&state=&group=&view=); here it
  // answers at once: the same query fetches the overview's partial, and the address follows.
  var filterGeneration = 0, filterTimer = null;
  var filterForm = document.querySelector("form[data-instant]");

  function filterQuery() {
    var params = new URLSearchParams();
    new FormData(filterForm).forEach(function (value, key) {
      if (value && !(key === "view" && value === "cards")) params.append(key, value);
    });
    return params;
  }

  function applyFilters() {
    clearTimeout(filterTimer);
    var params = filterQuery();
    var address = filterForm.getAttribute("action") + (params.toString() ? "?" + params : "");
    history.replaceState(null, "", address);
    if (filterForm.dataset.group) params.set("group", filterForm.dataset.group);
    var base = root.dataset.partialBase;
    root.dataset.partial = base + (params.toString() ? "?" + params : "");
    filterGeneration += 1;
    var generation = filterGeneration;
    getText(root.dataset.partial).then(function (html) {
      if (generation !== filterGeneration) return;
      var part = fragment(html);
      updateHeaderLed(part);
      root.replaceChildren(part);
    }).catch(function () { showBanner(banner && banner.dataset.liveLost); });
  }

  if (filterForm && root && window.fetch && window.URLSearchParams) {
    filterForm.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
    filterForm.addEventListener("change", applyFilters);
    filterForm.addEventListener("input", function () {
      clearTimeout(filterTimer);
      filterTimer = setTimeout(applyFilters, 250);
    });
  }

  function updateSite() {
    return getText(root.dataset.partial).then(function (html) {
      root.replaceChildren(fragment(html));
      restoreOutcomes();
      updateHeaderLed(document);
    });
  }

  // The header's dot shows the room that needs IT most; each partial says which look that is.
  function updateHeaderLed(from) {
    var worst = from.getElementById("worst-led");
    var dot = document.getElementById("header-led");
    if (worst && dot) dot.className = worst.dataset.class;
  }

  function poll() {
    if (document.hidden) { setTimeout(poll, POLL_MS); return; }
    var url = root.dataset.changes;
    url += (url.indexOf("?") < 0 ? "?" : "&") + "since=" + root.dataset.version;
    fetch(url, {credentials: "same-origin", cache: "no-store"})
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (data) {
        showBanner(data.mqtt === "connected" ? "" : banner && banner.dataset.mqttLost);
        if (data.reload) { root.dataset.version = 0; location.reload(); return null; }
        if (!data.sites.length) { root.dataset.version = data.version; return null; }
        var work = root.dataset.live === "overview" ? updateOverview(data.sites) : updateSite();
        return work.then(function () { root.dataset.version = data.version; });
      })
      .catch(function () { showBanner(banner && banner.dataset.liveLost); })
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  // The outcome of each button, kept here so that a live swap of the page does not wipe it.
  var outcomes = {};
  var OUTCOME_POLL_MS = 1000, OUTCOME_WAIT_MS = 60000;

  function showOutcome(kind, text, state) {
    outcomes[kind] = {text: text, state: state};
    restoreOutcomes();
  }

  function restoreOutcomes() {
    Object.keys(outcomes).forEach(function (kind) {
      var el = document.querySelector(".action-result[data-kind='" + kind + "']");
      if (!el) return;
      el.textContent = outcomes[kind].text;
      el.className = "action-result " + outcomes[kind].state;
    });
  }

  function followOutcome(form, kind, id, started) {
    var url = form.dataset.outcome.replace(/ID$/, encodeURIComponent(id));
    fetch(withLang(url), {credentials: "same-origin", cache: "no-store"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (answer) showOutcome(kind, answer.text, answer.state);
        // a command: sent, received; a test alert (GET /api/alerts/<id>): pending, retrying
        var waiting = !answer || ["sent", "received", "pending", "retrying"].indexOf(answer.state) >= 0;
        if (!waiting) return;
        if (Date.now() - started > OUTCOME_WAIT_MS) {
          if (answer && answer.state === "retrying") return;   // its text already says why
          var buttons = document.getElementById("buttons");
          showOutcome(kind, form.dataset.late || (buttons ? buttons.dataset.late : ""), "failed");
          return;
        }
        setTimeout(function () { followOutcome(form, kind, id, started); }, OUTCOME_POLL_MS);
      })
      .catch(function () { setTimeout(function () { followOutcome(form, kind, id, started); }, OUTCOME_POLL_MS); });
  }

  function sendCommand(event) {
    var form = event.target.closest("form[data-command]");
    if (!form || !window.fetch) return;
    event.preventDefault();
    var kind = form.dataset.command;
    var button = form.querySelector("button");
    var texts = form.dataset.sent ? form : (document.getElementById("buttons") || {dataset: {}});
    var token = form.querySelector("input[name=csrf_token]").value;
    button.disabled = true;
    fetch(form.action, {method: "POST", credentials: "same-origin",
                        headers: {"X-CSRF-Token": token, "Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (body) { return [r.status, body]; }); })
      .then(function (answer) {
        if (answer[0] !== 202) {
          showOutcome(kind, (texts.dataset.failed || "") + " " + (answer[1].error || ""), "failed");
          return;
        }
        showOutcome(kind, texts.dataset.sent || "", "sent");
        followOutcome(form, kind, answer[1].id, Date.now());
      })
      .catch(function () { showOutcome(kind, texts.dataset.failed || "", "failed"); })
      .then(function () { button.disabled = false; });
  }

  document.addEventListener("submit", sendCommand);
  if (root) setTimeout(poll, POLL_MS);
})();
