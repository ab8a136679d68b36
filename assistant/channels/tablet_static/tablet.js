/* The resident's tablet: talk or tap; the basket always in view.

   Everything the resident does goes into an outbox kept in localStorage and is
   sent in order, each with its own id, so a poor connection loses nothing and
   a retried request is answered once by the gateway. What the page shows is
   kept in sessionStorage, so a reload shows it again at once. Text from the
   server is only ever set with textContent, never parsed as HTML. */
(function () {
  "use strict";

  var API = "/tablet/api";
  var HEADERS = { "Content-Type": "application/json", "X-Helping-Hands": "tablet" };
  var REQUEST_SECONDS = 30;
  var POLL_SECONDS = 4;
  var SLOW_SECONDS = 3;
  var LISTEN_GIVE_UP_SECONDS = 45;
  var PRODUCTS_PER_PAGE = 5;
  var LINES_PER_PAGE = 4;
  var WAITING = "No connection just now. I've kept what you asked for, and will send it when the connection is back.";

  var $ = function (id) { return document.getElementById(id); };
  var model = null; // the paired resident's state, from /state
  var view = readJSON(sessionStorage, "hh.view", { aisle: null, productPage: 0, basketPage: 0 });
  var outbox = readJSON(localStorage, "hh.outbox", []);
  var products = {}; // aisle name -> products, as fetched
  var volunteerAfter = 0;
  var pumping = false;
  var wake = null;
  var online = true;
  var audio = new Audio();
  var lastSpeech = null;
  var micState = "idle";
  var socket = null;
  var microphone = null;
  var serverListening = false;
  var listenTimer = null;
  var pollTimer = null;

  // ------------------------------------------------------------ storage

  function readJSON(storage, key, fallback) {
    try {
      var value = JSON.parse(storage.getItem(key));
      return value === null || value === undefined ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }

  function writeJSON(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
    } catch (error) {
      /* storage full or refused: the page still works, it just forgets */
    }
  }

  function saveView() { writeJSON(sessionStorage, "hh.view", view); }
  function saveOutbox() { writeJSON(localStorage, "hh.outbox", outbox); }

  function forgetEverything() {
    model = null;
    outbox = [];
    products = {};
    view = { aisle: null, productPage: 0, basketPage: 0 };
    try {
      sessionStorage.clear();
      localStorage.removeItem("hh.outbox");
    } catch (error) { /* nothing to forget */ }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // ------------------------------------------------------------ network

  function NetworkError(message) { this.message = message; this.network = true; }

  function call(method, path, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, REQUEST_SECONDS * 1000);
    return fetch(API + path, {
      method: method,
      headers: HEADERS,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        clearTimeout(timer);
        if (response.status >= 500) throw new NetworkError("server " + response.status);
        setOnline(true);
        return { status: response.status, data: data };
      });
    }, function (error) {
      clearTimeout(timer);
      throw new NetworkError(String(error));
    });
  }

  // The same as the gateway writes money: "45p", "£1.45", "£3".
  function money(pence) {
    if (pence < 100) return pence + "p";
    var pounds = Math.floor(pence / 100);
    var pennies = pence % 100;
    return "£" + pounds.toLocaleString("en-GB") + (pennies ? "." + ("0" + pennies).slice(-2) : "");
  }

  function setOnline(isOnline) {
    online = isOnline;
    var banner = $("connection");
    banner.hidden = isOnline;
    if (!isOnline) {
      banner.textContent = outbox.length
        ? "No connection just now. I'm keeping what you tapped, and will send it when the connection is back."
        : "No connection just now. I'll keep trying.";
    }
    document.documentElement.toggleAttribute("data-offline", !isOnline);
  }

  function sleep(seconds) {
    return new Promise(function (resolve) {
      var timer = setTimeout(done, seconds * 1000);
      function done() { clearTimeout(timer); wake = null; resolve(); }
      wake = done;
    });
  }

  window.addEventListener("online", function () { if (wake) wake(); });
  window.addEventListener("offline", function () { setOnline(false); });

  // ------------------------------------------------------------- screens

  function showScreen(name) {
    ["loading", "unpaired", "app"].forEach(function (id) { $(id).hidden = id !== name; });
    document.body.setAttribute("data-screen", name);
  }

  function showUnpaired(demo) {
    stopListening();
    forgetEverything();
    $("basket-lines").replaceChildren();
    $("products").replaceChildren();
    $("reply-text").replaceChildren();
    $("demo").hidden = !demo;
    showScreen("unpaired");
  }

  function showApp() {
    $("hello").textContent = model.name ? "Hello, " + model.name : "Hello";
    renderBasket(model.basket);
    renderPerson(model.person);
    renderAisles();
    showScreen("app");
  }

  // ------------------------------------------------------------- replies

  function paragraphs(container, texts) {
    container.replaceChildren();
    texts.forEach(function (text) {
      String(text).split("\n").forEach(function (line) {
        if (!line.trim()) return;
        var p = document.createElement("p");
        p.textContent = line;
        container.appendChild(p);
      });
    });
  }

  function showSaid(label, text) {
    $("caption").hidden = !text;
    $("caption").querySelector(".who").textContent = label;
    $("heard").textContent = text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  function showWords(who, texts) {
    $("reply-who").textContent = who;
    paragraphs($("reply-text"), texts);
  }

  function showReply(reply) {
    if (reply.said) showSaid("You said", reply.said);
    var replies = reply.replies || [];
    if (replies.length) {
      var volunteer = replies[replies.length - 1].volunteer;
      showWords(volunteer ? volunteer + ", a volunteer" : "Helping Hands",
        replies.map(function (r) { return r.text; }));
    }
    renderAnswers(reply.answers || []);
    if (reply.basket && !outbox.some(function (a) { return a.kind === "basket"; })) {
      renderBasket(reply.basket);
    }
    if (reply.person) renderPerson(reply.person);
    writeJSON(sessionStorage, "hh.reply", {
      said: $("heard").textContent,
      who: $("reply-who").textContent,
      replies: replies.map(function (r) { return r.text; })
    });
    play(reply.speech_url);
  }

  function renderAnswers(answers) {
    var box = $("answers");
    box.replaceChildren();
    answers.forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "primary";
      button.textContent = choice.label;
      button.addEventListener("click", function () {
        box.hidden = true;
        say(choice.say, choice.label);
      });
      box.appendChild(button);
    });
    box.hidden = answers.length === 0;
  }

  function renderPerson(person) {
    var box = $("person");
    if (!person || !person.held) {
      box.hidden = true;
      return;
    }
    box.textContent = person.volunteer
      ? "You're talking with " + person.volunteer + ", a volunteer. What you say goes to them."
      : "A volunteer will be with you soon. What you say goes to them.";
    box.hidden = false;
  }

  function play(url) {
    if (!url) return;
    lastSpeech = url;
    $("again").hidden = false;
    audio.src = url;
    var playing = audio.play();
    if (playing && playing.catch) {
      playing.catch(function () { /* not allowed yet: "Hear it again" is there */ });
    }
  }

  // -------------------------------------------------------------- basket

  function findLine(sku) {
    var lines = (model && model.basket && model.basket.lines) || [];
    for (var i = 0; i < lines.length; i++) if (lines[i].sku === sku) return lines[i];
    return null;
  }

  function renderBasket(basket) {
    if (!model) return;
    model.basket = basket;
    var lines = basket.lines || [];
    var perPage = linesPerPage();
    var pages = Math.max(1, Math.ceil(lines.length / perPage));
    view.basketPage = Math.min(view.basketPage, pages - 1);
    var list = $("basket-lines");
    list.replaceChildren();
    lines.slice(view.basketPage * perPage, (view.basketPage + 1) * perPage)
      .forEach(function (line) { list.appendChild(basketLine(line)); });
    $("basket-empty").hidden = lines.length > 0;
    $("basket-total").textContent = basket.total;
    $("basket-jump-count").textContent = basket.count
      ? basket.count + (basket.count === 1 ? " item, " : " items, ") + basket.total
      : "empty";
    pager("basket", view.basketPage, pages);
    if (view.aisle && products[view.aisle]) renderProducts();
    writeJSON(sessionStorage, "hh.state", model);
  }

  // Beside the conversation the basket stays in view, so it shows as many
  // lines as fit above the bar of actions, and pages through the rest.
  function linesPerPage() {
    var basket = $("basket");
    if (getComputedStyle(basket).position !== "sticky") return LINES_PER_PAGE;
    var list = $("basket-lines");
    var tallest = 0;
    Array.prototype.forEach.call(list.children, function (item) {
      tallest = Math.max(tallest, item.offsetHeight);
    });
    var lineHeight = (tallest || 124) + 14;
    var pager = $("basket-pages").hidden ? 96 : 0;
    var around = basket.offsetHeight - list.offsetHeight + pager;
    var room = $("actions").getBoundingClientRect().top - 32 - around;
    return Math.max(1, Math.min(LINES_PER_PAGE, Math.floor(room / lineHeight)));
  }

  function basketLine(line) {
    var item = $("line-template").content.firstElementChild.cloneNode(true);
    var described = line.name + " (" + line.size + ")";
    item.dataset.sku = line.sku;
    item.querySelector(".name").textContent = described;
    item.querySelector(".quantity").textContent = String(line.quantity);
    item.querySelector(".line-total").textContent = line.total;
    var less = item.querySelector(".less");
    less.setAttribute("aria-label", line.quantity > 1
      ? "One less " + described
      : "Take " + described + " out of the basket");
    less.addEventListener("click", function () { setQuantity(line, line.quantity - 1); });
    var more = item.querySelector(".more");
    more.setAttribute("aria-label", "One more " + described);
    more.addEventListener("click", function () { setQuantity(line, line.quantity + 1); });
    return item;
  }

  function setQuantity(product, quantity) {
    var lines = model.basket.lines.slice();
    var line = findLine(product.sku);
    if (line) {
      lines = lines.map(function (l) {
        if (l.sku !== product.sku) return l;
        return Object.assign({}, l, { quantity: quantity, total: money(quantity * l.price_pence) });
      }).filter(function (l) { return l.quantity > 0; });
    } else if (quantity > 0) {
      lines.push({ sku: product.sku, name: product.name, size: product.size,
        quantity: quantity, price_pence: product.price_pence, price: product.price,
        total: money(quantity * product.price_pence) });
    }
    var count = lines.reduce(function (n, l) { return n + l.quantity; }, 0);
    var pence = lines.reduce(function (n, l) { return n + l.quantity * l.price_pence; }, 0);
    renderBasket(Object.assign({}, model.basket, { lines: lines, count: count, total: money(pence) }));
    showWords("Helping Hands", [online ? "Just a moment…" : WAITING]);
    send({ kind: "basket", id: newId(), sku: product.sku, quantity: quantity });
  }

  // -------------------------------------------------------------- aisles

  function renderAisles() {
    var list = $("aisles");
    list.replaceChildren();
    (model.aisles || []).forEach(function (name) {
      var item = $("aisle-template").content.firstElementChild.cloneNode(true);
      var button = item.querySelector("button");
      button.textContent = name;
      button.addEventListener("click", function () { openAisle(name, 0); });
      list.appendChild(item);
    });
    if (view.aisle && (model.aisles || []).indexOf(view.aisle) >= 0) {
      openAisle(view.aisle, view.productPage);
    } else {
      closeAisle();
    }
  }

  function openAisle(name, page) {
    view.aisle = name;
    view.productPage = page;
    saveView();
    $("aisles").hidden = true;
    $("aisle").hidden = false;
    $("aisle-name").textContent = name;
    if (products[name]) {
      renderProducts();
      return;
    }
    $("products").replaceChildren();
    call("GET", "/aisle?name=" + encodeURIComponent(name)).then(function (result) {
      if (result.status === 401) return showUnpaired(false);
      if (result.status !== 200) return closeAisle();
      products[name] = result.data.products;
      if (view.aisle === name) renderProducts();
    }, function () {
      setOnline(false);
      $("aisle-name").textContent = name + ": not loaded yet, no connection";
    });
  }

  function closeAisle() {
    view.aisle = null;
    view.productPage = 0;
    saveView();
    $("aisle").hidden = true;
    $("aisles").hidden = false;
  }

  function renderProducts() {
    var all = products[view.aisle] || [];
    var pages = Math.max(1, Math.ceil(all.length / PRODUCTS_PER_PAGE));
    view.productPage = Math.max(0, Math.min(view.productPage, pages - 1));
    saveView();
    var list = $("products");
    list.replaceChildren();
    all.slice(view.productPage * PRODUCTS_PER_PAGE, (view.productPage + 1) * PRODUCTS_PER_PAGE)
      .forEach(function (product) {
        var item = $("product-template").content.firstElementChild.cloneNode(true);
        var line = findLine(product.sku);
        item.dataset.sku = product.sku;
        item.querySelector(".name").textContent = product.name;
        item.querySelector(".detail").textContent = product.size + " · " + product.price;
        item.querySelector(".in-basket").textContent = line ? line.quantity + " in your basket" : "";
        var add = item.querySelector(".add");
        add.setAttribute("aria-label", "Add " + product.name + ", " + product.size + ", " + product.price);
        add.addEventListener("click", function () {
          var current = findLine(product.sku);
          setQuantity(product, (current ? current.quantity : 0) + 1);
        });
        list.appendChild(item);
      });
    pager("products", view.productPage, pages);
  }

  function pager(prefix, page, pages) {
    $(prefix + "-pages").hidden = pages < 2;
    var words = "page " + (page + 1) + " of " + pages;
    $(prefix + "-page").textContent = prefix === "basket"
      ? (pages < 2 ? "" : "· " + words)
      : words.charAt(0).toUpperCase() + words.slice(1);
    $(prefix + "-previous").disabled = page === 0;
    $(prefix + "-next").disabled = page >= pages - 1;
  }

  // --------------------------------------------------- words and the outbox

  function say(text, label) {
    stopSpeaking();
    showSaid("You asked", label || text);
    showWords("Helping Hands", [online ? "Just a moment…" : WAITING]);
    renderAnswers([]);
    send({ kind: "say", id: newId(), text: text });
  }

  function send(action) {
    outbox.push(action);
    saveOutbox();
    if (!online) setOnline(false);
    pump();
  }

  function pump() {
    if (pumping) return;
    pumping = true;
    var backoff = 2;
    var step = function () {
      if (!outbox.length || !model) {
        pumping = false;
        return;
      }
      var action = outbox[0];
      var slow = setTimeout(function () {
        showWords("Helping Hands", ["Still sending… the connection is slow. What you asked for is kept."]);
      }, SLOW_SECONDS * 1000);
      var path = action.kind === "basket" ? "/basket" : "/say";
      var body = action.kind === "basket"
        ? { id: action.id, sku: action.sku, quantity: action.quantity }
        : { id: action.id, text: action.text };
      call("POST", path, body).then(function (result) {
        clearTimeout(slow);
        outbox.shift();
        saveOutbox();
        backoff = 2;
        if (result.status === 401) {
          pumping = false;
          return showUnpaired(false);
        }
        if (result.status === 200) {
          showReply(result.data);
        } else {
          showWords("Helping Hands", [result.data.error || "Sorry, that didn't work. Please try again."]);
        }
        step();
      }, function () {
        clearTimeout(slow);
        setOnline(false);
        showWords("Helping Hands", [WAITING]);
        sleep(backoff).then(step);
        backoff = Math.min(backoff * 2, 30);
      });
    };
    step();
  }

  // ------------------------------------------------------------ updates

  function poll() {
    clearTimeout(pollTimer);
    if (!model || document.hidden) {
      pollTimer = setTimeout(poll, POLL_SECONDS * 1000);
      return;
    }
    call("GET", "/updates?after=" + volunteerAfter).then(function (result) {
      if (result.status === 401) return showUnpaired(false);
      var data = result.data;
      volunteerAfter = Math.max(volunteerAfter, data.latest_id || 0);
      var quiet = micState === "idle" && !outbox.length;
      if (quiet && data.basket) renderBasket(data.basket);
      if (data.person) renderPerson(data.person);
      (data.messages || []).forEach(function (message) {
        showWords(message.volunteer + ", a volunteer", [message.text]);
        renderAnswers([]);
        play(message.speech_url);
      });
    }, function () {
      setOnline(false);
    }).then(function () {
      pollTimer = setTimeout(poll, POLL_SECONDS * 1000);
    });
  }

  // --------------------------------------------------------- microphone

  function setMic(state) {
    micState = state;
    var mic = $("mic");
    mic.dataset.state = state;
    mic.setAttribute("aria-pressed", state === "listening" ? "true" : "false");
    $("mic-label").textContent = {
      idle: "Tap to talk",
      starting: "Getting ready…",
      listening: "Listening… tap when done",
      thinking: "Just a moment…"
    }[state];
  }

  function stopSpeaking() {
    audio.pause();
  }

  function openSocket() {
    if (socket && socket.readyState === WebSocket.OPEN) return Promise.resolve(socket);
    return new Promise(function (resolve, reject) {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var opened = new WebSocket(scheme + location.host + "/tablet");
      opened.binaryType = "arraybuffer";
      opened.onopen = function () { socket = opened; resolve(opened); };
      opened.onerror = function () { reject(new NetworkError("socket")); };
      opened.onclose = function () {
        if (socket === opened) socket = null;
        if (micState !== "idle") {
          stopListening();
          showWords("Helping Hands", ["The connection dropped, so I couldn't listen. Please tap the microphone again, or use the buttons."]);
        }
      };
      opened.onmessage = function (event) {
        if (typeof event.data !== "string") return;
        try {
          heardFromServer(JSON.parse(event.data));
        } catch (error) { /* a garbled frame: ignore it */ }
      };
    });
  }

  function heardFromServer(message) {
    restartListenTimer();
    if (message.type === "listening") {
      serverListening = true;
      showListening();
    } else if (message.type === "partial") {
      showSaid("I'm hearing", message.text);
    } else if (message.type === "heard") {
      stopMicrophone();
      setMic("thinking");
      showSaid("You said", message.text);
      showWords("Helping Hands", ["Just a moment…"]);
    } else if (message.type === "reply" || message.type === "not-heard") {
      stopListening();
      showReply(message);
    }
  }

  // "Listening" only once both ends are ready, so no word is lost by
  // speaking too soon.
  function showListening() {
    if (micState === "starting" && serverListening && microphone) setMic("listening");
  }

  function restartListenTimer() {
    clearTimeout(listenTimer);
    if (micState === "idle") return;
    listenTimer = setTimeout(function () {
      stopListening();
      showWords("Helping Hands", ["I didn't get an answer in time. Please tap the microphone again, or use the buttons."]);
    }, LISTEN_GIVE_UP_SECONDS * 1000);
  }

  function micTapped() {
    if (micState === "listening" || micState === "starting") {
      if (socket) socket.send(JSON.stringify({ type: "stop" }));
      stopMicrophone();
      setMic("thinking");
      restartListenTimer();
      return;
    }
    if (micState === "thinking") return;
    stopSpeaking();
    renderAnswers([]);
    setMic("starting");
    serverListening = false;
    restartListenTimer();
    showSaid("", "");
    openSocket().then(function (opened) {
      opened.send(JSON.stringify({ type: "listen", id: newId() }));
      return startMicrophone(function (chunk) {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(chunk);
      }).then(function (started) {
        microphone = started;
        if (micState === "idle") stopMicrophone();
        showListening();
      }, function () {
        opened.send(JSON.stringify({ type: "stop" }));
        stopListening();
        showWords("Helping Hands", ["I can't use the microphone on this tablet. Please ask someone to allow it, or use the buttons."]);
      });
    }, function () {
      stopListening();
      setOnline(false);
      showWords("Helping Hands", ["I can't listen without a connection. You can still use the buttons: I'll send what you tap when the connection is back."]);
    });
  }

  function startMicrophone(onChunk) {
    var constraints = { audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true } };
    return navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      var context, source;
      try {
        context = new AudioContext({ sampleRate: 16000 });
        source = context.createMediaStreamSource(stream);
      } catch (error) {
        if (context) context.close();
        context = new AudioContext();
        source = context.createMediaStreamSource(stream);
      }
      var silent = context.createGain();
      silent.gain.value = 0;
      silent.connect(context.destination);
      var stop = function (node) {
        return {
          stop: function () {
            stream.getTracks().forEach(function (track) { track.stop(); });
            node.disconnect();
            source.disconnect();
            context.close();
          }
        };
      };
      if (context.audioWorklet && window.AudioWorkletNode) {
        return context.audioWorklet.addModule("/tablet/static/tablet-microphone.js").then(function () {
          var node = new AudioWorkletNode(context, "helping-hands-microphone");
          node.port.onmessage = function (event) { onChunk(event.data); };
          source.connect(node);
          node.connect(silent);
          return context.resume().then(function () { return stop(node); });
        });
      }
      var processor = context.createScriptProcessor(4096, 1, 1);
      var downsampler = new window.HelpingHandsDownsampler(context.sampleRate);
      processor.onaudioprocess = function (event) {
        downsampler.push(event.inputBuffer.getChannelData(0), onChunk);
      };
      source.connect(processor);
      processor.connect(silent);
      return context.resume().then(function () { return stop(processor); });
    });
  }

  function stopMicrophone() {
    if (microphone) microphone.stop();
    microphone = null;
  }

  function stopListening() {
    stopMicrophone();
    clearTimeout(listenTimer);
    setMic("idle");
  }

  // -------------------------------------------------------------- start

  function loadState() {
    return call("GET", "/state").then(function (result) {
      if (result.status === 401) return showUnpaired(result.data.demo);
      var first = model === null;
      model = result.data;
      volunteerAfter = Math.max(volunteerAfter, model.latest_id || 0);
      showApp();
      if (first || !readJSON(sessionStorage, "hh.reply", null)) {
        showReply({ said: model.said, replies: model.replies, answers: model.answers, person: model.person });
      }
      pump();
      poll();
    }, function () {
      setOnline(false);
      return sleep(5).then(loadState);
    });
  }

  function start() {
    var cached = readJSON(sessionStorage, "hh.state", null);
    var reply = readJSON(sessionStorage, "hh.reply", null);
    if (cached && cached.paired) {
      model = cached;
      showApp();
      if (reply) {
        showSaid("You said", reply.said);
        showWords(reply.who, reply.replies);
      }
    }
    loadState();
  }

  function wire() {
    $("mic").addEventListener("click", micTapped);
    $("again").addEventListener("click", function () {
      if (!lastSpeech) return;
      audio.currentTime = 0;
      play(lastSpeech);
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-say]"), function (button) {
      button.addEventListener("click", function () {
        say(button.getAttribute("data-say"), button.textContent);
      });
    });
    $("aisle-back").addEventListener("click", closeAisle);
    $("products-previous").addEventListener("click", function () { view.productPage -= 1; renderProducts(); });
    $("products-next").addEventListener("click", function () { view.productPage += 1; renderProducts(); });
    $("basket-previous").addEventListener("click", function () { view.basketPage -= 1; saveView(); renderBasket(model.basket); });
    $("basket-next").addEventListener("click", function () { view.basketPage += 1; saveView(); renderBasket(model.basket); });
    $("basket-jump").addEventListener("click", function (event) {
      event.preventDefault();
      $("basket").scrollIntoView();
      $("basket").focus({ preventScroll: true });
    });
    $("pair-form").addEventListener("submit", function (event) {
      event.preventDefault();
      $("pair-said").textContent = "";
      call("POST", "/pair", { code: $("pair-code").value }).then(function (result) {
        if (result.status === 200) {
          $("pair-code").value = "";
          return loadState();
        }
        $("pair-said").textContent = result.data.error || "That didn't work. Please try again.";
      }, function () {
        $("pair-said").textContent = "No connection just now. Please try again in a moment.";
      });
    });
    $("demo-button").addEventListener("click", function () {
      call("POST", "/demo", {}).then(function (result) {
        if (result.status === 200) return loadState();
        $("pair-said").textContent = result.data.error || "The demo isn't offered here.";
      }, function () {
        $("pair-said").textContent = "No connection just now. Please try again in a moment.";
      });
    });
  }

  window.addEventListener("resize", function () {
    if (model && model.basket) renderBasket(model.basket);
  });

  wire();
  start();
})();
