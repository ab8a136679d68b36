// Live updates: parts of a page marked data-live="URL" are fetched again when
// the server's event stream names one of their data-live-on events. Without
// this script every page still works; it just needs reloading.
(function () {
  "use strict";
  var parts = Array.prototype.slice.call(document.querySelectorAll("[data-live]"));
  if (!parts.length || !window.EventSource || !window.fetch) {
    return;
  }
  var timers = new Map();

  function typing() {
    return Array.prototype.some.call(
      document.querySelectorAll("textarea, input[type=text], input:not([type])"),
      function (field) { return field.value.trim() !== "" && field.defaultValue !== field.value; }
    );
  }

  function stateOf(part) {
    var first = part.querySelector("[data-state]");
    return first ? first.getAttribute("data-state") : null;
  }

  function refresh(part) {
    fetch(part.getAttribute("data-live"), {
      credentials: "same-origin",
      headers: { "Accept": "text/html" },
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 401) {
        window.location.reload();
        return null;
      }
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null || html === undefined) {
        return;
      }
      var before = stateOf(part);
      part.innerHTML = html;
      var title = part.querySelector("[data-title]");
      if (title) {
        document.title = "(" + title.getAttribute("data-title") + ") Conversations · Helping Hands";
      }
      if (part.hasAttribute("data-live-reload") && before !== stateOf(part) && !typing()) {
        // The conversation changed hands: the forms on the page change too.
        window.location.reload();
      }
    }).catch(function () {});
  }

  function soon(part) {
    clearTimeout(timers.get(part));
    timers.set(part, setTimeout(function () { refresh(part); }, 150));
  }

  var source = new EventSource("/console/events");
  source.onopen = function () {
    // Catch up on anything that changed before this stream began, or while
    // the browser was reconnecting.
    parts.forEach(soon);
    document.documentElement.setAttribute("data-live-connected", "");
  };
  source.onmessage = function (event) {
    parts.forEach(function (part) {
      var names = (part.getAttribute("data-live-on") || "").split(" ");
      if (names.indexOf(event.data) !== -1) {
        soon(part);
      }
    });
  };
  source.addEventListener("signed-out", function () {
    source.close();
    window.location.reload();
  });
})();
