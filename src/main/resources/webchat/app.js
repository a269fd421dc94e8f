// Ferry web chat: one page, one WebSocket to /ws (SPEC 3.5), no framework and no build step.
//
// Promises kept here: a message typed in this tab is sent with one client-made messageId and resent
// with that same id until the gateway has acknowledged it (the gateway dedupes), and a reply is
// shown exactly once (keyed by replyId), whether it arrives as events or from chat.history after a
// reconnect. Nothing a user or a model wrote reaches the page as markup: user text is textContent,
// replies are Markdown rendered by marked, sanitized by DOMPurify and then de-fanged again.
(function () {
  'use strict';

  var CONVERSATION_KEY = 'ferry.webchat.conversation';
  var TOKEN_KEY = 'ferry.webchat.token';
  var BACKOFF_FIRST_MS = 250;
  var BACKOFF_MAX_MS = 5000;
  var HISTORY_LIMIT = 200;

  var $ = function (id) { return document.getElementById(id); };
  var els = {
    messages: $('messages'),
    composerForm: $('composer-form'),
    composer: $('composer'),
    send: $('send'),
    connState: $('conn-state'),
    tokenForm: $('token-form'),
    tokenInput: $('token-input'),
    tokenMessage: $('token-message'),
    conversationForm: $('conversation-form'),
    conversationInput: $('conversation-input'),
    statusPanel: $('status-panel')
  };

  // ---- storage: the conversation id lives in localStorage, the token only in this tab -----------

  function safeGet(storage, key) {
    try { return storage.getItem(key); } catch (e) { return null; }
  }
  function safeSet(storage, key, value) {
    try {
      if (value === null) { storage.removeItem(key); } else { storage.setItem(key, value); }
    } catch (e) { /* storage disabled: the value lives only in memory */ }
  }

  function randomId() {
    if (window.crypto && typeof window.crypto.randomUUID === 'function') {
      return window.crypto.randomUUID();
    }
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  var memoryToken = null;
  function storedToken() { return safeGet(window.sessionStorage, TOKEN_KEY) || memoryToken; }
  function storeToken(token) { memoryToken = token; safeSet(window.sessionStorage, TOKEN_KEY, token); }

  var conversation = safeGet(window.localStorage, CONVERSATION_KEY);
  if (!conversation) {
    conversation = 'web-' + randomId().replace(/-/g, '').slice(0, 12);
    safeSet(window.localStorage, CONVERSATION_KEY, conversation);
  }
  els.conversationInput.value = conversation;

  // ---- Markdown: marked, then DOMPurify with a strict allow-list, then links de-fanged ----------

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  var markdown = null;
  function markdownParser() {
    if (markdown === null && window.marked && window.marked.Marked) {
      // Raw HTML in a reply is shown as the text it is, never passed through as markup.
      markdown = new window.marked.Marked({
        gfm: true,
        breaks: true,
        async: false,
        renderer: { html: function (token) { return escapeHtml(token.text); } }
      });
    }
    return markdown;
  }

  var PURIFY_CONFIG = {
    ALLOWED_TAGS: ['a', 'p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li',
      'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span'],
    ALLOWED_ATTR: ['href', 'title', 'start'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: /^https?:\/\//i,
    KEEP_CONTENT: true,
    RETURN_DOM_FRAGMENT: true
  };

  /** Replaces the children of target with the reply rendered safely; falls back to plain text. */
  function renderReply(target, text) {
    var parser = markdownParser();
    if (!parser || !window.DOMPurify || !window.DOMPurify.isSupported) {
      target.textContent = text;
      target.classList.add('plain');
      return;
    }
    var fragment = window.DOMPurify.sanitize(parser.parse(String(text)), PURIFY_CONFIG);
    var links = fragment.querySelectorAll('a');
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      var href = (a.getAttribute('href') || '').trim();
      if (/^https?:\/\//i.test(href)) {
        a.setAttribute('target', '_blank');
        a.setAttribute('rel', 'noopener noreferrer');
      } else {
        a.removeAttribute('href');
        a.classList.add('inert');
      }
    }
    target.classList.remove('plain');
    target.replaceChildren(fragment);
  }

  // ---- the message list --------------------------------------------------------------------------

  var replies = new Map();   // replyId -> {el, body, text, final}: a reply is shown once
  var outgoing = new Map();  // messageId -> {conversation, text, el, acked, answered, inFlight}

  function nearBottom() {
    var list = els.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }
  function scrollToEnd(force) {
    if (force || nearBottom()) { els.messages.scrollTop = els.messages.scrollHeight; }
  }

  function userBubble(text, messageId) {
    var li = document.createElement('li');
    li.className = 'msg user';
    if (messageId) { li.dataset.messageId = messageId; }
    var body = document.createElement('div');
    body.className = 'body';
    body.textContent = text;
    var marks = document.createElement('div');
    marks.className = 'marks';
    li.append(body, marks);
    return li;
  }

  function agentBubble(replyId) {
    var li = document.createElement('li');
    li.className = 'msg agent';
    li.dataset.replyId = replyId;
    var body = document.createElement('div');
    body.className = 'body';
    li.append(body);
    return { el: li, body: body, text: '', final: false };
  }

  function noteBubble(text) {
    var li = document.createElement('li');
    li.className = 'msg note';
    li.textContent = text;
    els.messages.append(li);
    scrollToEnd(false);
  }

  function setMark(entry, kind, text) {
    if (!entry || !entry.el) { return; }
    var marks = entry.el.querySelector('.marks');
    var old = marks.querySelector('.queued, .steered');
    if (old) { old.remove(); }
    if (kind) {
      var mark = document.createElement('span');
      mark.className = 'mark ' + kind;
      mark.textContent = text;
      marks.append(mark);
    }
  }

  function markAnswered(messageId) {
    var entry = outgoing.get(messageId);
    if (!entry) { return; }
    entry.answered = true;
    setMark(entry, null);
  }

  /** Shows a reply, or updates the bubble already shown for its replyId. */
  function showReply(replyId, text, final, inReplyTo) {
    var reply = replies.get(replyId);
    var stick = nearBottom();
    if (!reply) {
      reply = agentBubble(replyId);
      replies.set(replyId, reply);
      els.messages.append(reply.el);
    } else if (reply.final) {
      return; // already whole: a late piece or a repeat changes nothing
    }
    reply.text = final ? String(text) : reply.text + String(text);
    reply.final = !!final;
    reply.el.classList.toggle('streaming', !final);
    renderReply(reply.body, reply.text);
    (inReplyTo || []).forEach(markAnswered);
    scrollToEnd(stick);
  }

  /** A streamed reply starts over (its model call was restarted): the pieces shown so far go. */
  function restartReply(replyId) {
    var reply = replies.get(replyId);
    if (!reply || reply.final) { return; }
    reply.text = '';
    renderReply(reply.body, reply.text);
  }

  function clearConversationView() {
    replies.clear();
    els.messages.replaceChildren();
    outgoing.forEach(function (entry) {
      if (entry.conversation === conversation && !entry.answered) {
        els.messages.append(entry.el);
      }
    });
  }

  /** Adds every exchange of chat.history whose reply is not shown yet, in the order given. */
  function mergeHistory(payload) {
    var exchanges = (payload && payload.exchanges) || [];
    exchanges.forEach(function (exchange) {
      var replyId = exchange.replyId;
      if (replyId && replies.has(replyId)) {
        var shown = replies.get(replyId);
        if (!shown.final) { showReply(replyId, exchange.reply, true, null); }
        return;
      }
      // A message of ours that was answered while we were away: its bubble is already here. The
      // exchange names the messages it answers; a gateway too old to say is matched by the prompt.
      var ours = null;
      (exchange.inReplyTo || []).forEach(function (messageId) {
        var entry = outgoing.get(messageId);
        // Only a bubble still in this view; after switching conversations the view starts empty.
        if (entry && entry.conversation === conversation && entry.el.isConnected) {
          markAnswered(messageId);
          ours = entry;
        }
      });
      if (!ours && !exchange.inReplyTo) {
        outgoing.forEach(function (entry) {
          if (!ours && !entry.answered && entry.conversation === conversation && entry.text === exchange.prompt) {
            ours = entry;
          }
        });
      }
      if (ours) {
        ours.answered = true;
        setMark(ours, null);
      } else if (exchange.prompt) {
        els.messages.append(userBubble(exchange.prompt, null));
      }
      if (replyId) {
        showReply(replyId, exchange.reply || '', true, null);
        if (ours && ours.el.nextSibling !== replies.get(replyId).el) {
          ours.el.after(replies.get(replyId).el);
        }
      }
    });
    scrollToEnd(true);
  }

  // ---- the status panel --------------------------------------------------------------------------

  function setField(name, value) {
    var el = els.statusPanel.querySelector('[data-field="' + name + '"]');
    if (el && value !== undefined && value !== null) { el.textContent = String(value); }
  }

  function renderStatus(status) {
    if (!status) { return; }
    setField('generation', status.generation);
    setField('state', status.state);
    setField('agent', status.agent);
    setField('sessions', status.sessions);
    setField('runningTurns', status.runningTurns);
    setField('bufferedDebounceKeys', status.bufferedDebounceKeys);
    if (status.journal) { setField('journalPending', status.journal.pending); }
    if (status.outbox) {
      setField('outboxPending', status.outbox.pending);
      setField('outboxFailed', status.outbox.failed);
    }
    var queues = Array.isArray(status.queues) ? status.queues : [];
    setField('queued', queues.reduce(function (sum, q) { return sum + (Number(q.queued) || 0); }, 0));
    var list = els.statusPanel.querySelector('[data-field="queues"]');
    var items = queues.map(function (q) {
      var li = document.createElement('li');
      li.dataset.sessionKey = q.sessionKey;
      var key = document.createElement('span');
      key.className = 'session-key';
      key.textContent = q.sessionKey;
      var depth = document.createElement('span');
      depth.className = 'depth';
      depth.dataset.queued = String(q.queued);
      depth.textContent = q.queued + ' queued' + (q.turnRunning ? ', turn running' : '')
          + (q.draining ? ', draining' : '') + (q.dropped ? ', ' + q.dropped + ' dropped' : '')
          + (q.mode ? ' (' + q.mode + ')' : '');
      li.append(key, depth);
      return li;
    });
    if (items.length === 0) {
      var empty = document.createElement('li');
      empty.className = 'empty';
      empty.textContent = 'no queues';
      items.push(empty);
    }
    list.replaceChildren.apply(list, items);
  }

  // ---- the connection ----------------------------------------------------------------------------

  var ws = null;
  var connected = false;      // connect answered ok on the current socket
  var needsToken = false;
  var stopping = false;       // the gateway announced shutdown
  var attempt = 0;
  var reconnectTimer = null;
  var nextRequestId = 1;
  var pending = new Map();    // request id -> {resolve, reject}
  var sendChain = Promise.resolve();

  var STATE_TEXT = {
    connecting: 'connecting\u2026',
    connected: 'connected',
    reconnecting: 'reconnecting\u2026',
    'needs-token': 'needs token',
    stopping: 'gateway stopping'
  };

  function setConnState(state, detail) {
    els.connState.dataset.state = state;
    els.connState.textContent = STATE_TEXT[state] + (detail ? ' ' + detail : '');
    document.body.dataset.conn = state;
  }

  function request(method, params) {
    return new Promise(function (resolve, reject) {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected'));
        return;
      }
      var id = 'r' + (nextRequestId++);
      pending.set(id, { resolve: resolve, reject: reject });
      var frame = { type: 'req', id: id, method: method };
      if (params) { frame.params = params; }
      ws.send(JSON.stringify(frame));
    });
  }

  function wsUrl() {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
  }

  function scheduleReconnect() {
    if (reconnectTimer !== null || needsToken) { return; }
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * Math.pow(2, attempt));
    attempt++;
    var delay = Math.round(base / 2 + Math.random() * base / 2);
    if (!stopping) { setConnState('reconnecting'); }
    reconnectTimer = window.setTimeout(function () {
      reconnectTimer = null;
      open();
    }, delay);
  }

  function open() {
    if (ws) { return; }
    var socket;
    try {
      socket = new WebSocket(wsUrl());
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    connected = false;
    socket.onopen = function () { handshake(socket); };
    socket.onmessage = function (message) { onFrame(socket, message.data); };
    socket.onclose = function () { onClosed(socket); };
    socket.onerror = function () { /* onclose follows */ };
  }

  function onClosed(socket) {
    if (ws !== socket) { return; }
    ws = null;
    connected = false;
    pending.forEach(function (p) { p.reject(new Error('connection closed')); });
    pending.clear();
    outgoing.forEach(function (entry) { entry.inFlight = false; });
    sendChain = Promise.resolve();
    if (needsToken) {
      setConnState('needs-token');
      return;
    }
    scheduleReconnect();
    stopping = false;
  }

  function handshake(socket) {
    // The page's messages are the web chat channel's (what the gateway assumes for a browser anyway).
    var params = { channel: 'webchat', subscribe: { conversations: [conversation], status: true } };
    var token = storedToken();
    if (token) { params.auth = { token: token }; }
    request('connect', params).then(function (hello) {
      if (ws !== socket) { return; }
      connected = true;
      needsToken = false;
      stopping = false;
      attempt = 0;
      els.tokenForm.hidden = true;
      setConnState('connected');
      // Whatever was not answered before the connection was lost goes again, under its own messageId.
      outgoing.forEach(function (entry) { if (!entry.answered) { entry.acked = false; } });
      if (hello && hello.generation !== undefined) { setField('generation', hello.generation); }
      request('status').then(renderStatus, function () {});
      loadHistory().then(flushOutgoing, flushOutgoing);
    }, function (error) {
      if (ws !== socket) { return; }
      if (error && error.code === 'UNAUTHORIZED') {
        // The gateway closes with 1008 next; onclose then waits for the token instead of reconnecting.
        askForToken(token ? 'The gateway refused that token. Enter it again.' : 'This gateway needs its token.');
      } else if (error && error.code) {
        socket.close();
      }
    });
  }

  function askForToken(message) {
    needsToken = true;
    storeToken(null);
    setConnState('needs-token');
    els.tokenMessage.textContent = message;
    els.tokenForm.hidden = false;
    els.tokenInput.value = '';
    els.tokenInput.focus();
  }

  function loadHistory() {
    var asked = conversation;
    return request('chat.history', { conversation: asked, limit: HISTORY_LIMIT }).then(function (payload) {
      if (asked === conversation) { mergeHistory(payload); }
    }, function (error) {
      if (error && error.code) { noteBubble('history unavailable: ' + (error.message || error.code)); }
    });
  }

  function onFrame(socket, data) {
    if (ws !== socket) { return; }
    var frame;
    try { frame = JSON.parse(data); } catch (e) { return; }
    if (!frame || typeof frame !== 'object') { return; }
    if (frame.type === 'res') {
      var waiting = pending.get(frame.id);
      if (!waiting) { return; }
      pending.delete(frame.id);
      if (frame.ok) {
        waiting.resolve(frame.payload);
      } else {
        var error = new Error((frame.error && frame.error.message) || 'request failed');
        error.code = frame.error && frame.error.code;
        waiting.reject(error);
      }
    } else if (frame.type === 'event') {
      onEvent(frame.event, frame.payload || {});
    }
  }

  function onEvent(name, payload) {
    switch (name) {
      case 'chat':
        if (payload.conversation === conversation && payload.replyId) {
          if (payload.restart) {
            restartReply(payload.replyId);
          } else {
            showReply(payload.replyId, payload.text || '', payload.final !== false, payload.inReplyTo);
          }
        } else if (Array.isArray(payload.inReplyTo)) {
          payload.inReplyTo.forEach(markAnswered);
        }
        break;
      case 'queue':
        onQueue(payload);
        break;
      case 'status':
        renderStatus(payload);
        break;
      case 'reload':
        setField('generation', payload.generation);
        break;
      case 'shutdown':
        stopping = true;
        setConnState('stopping');
        break;
      default:
        break;
    }
  }

  var steeredTimers = new Map();
  function onQueue(payload) {
    if (payload.change === 'started') {
      (payload.messageIds || []).forEach(function (id) { setMark(outgoing.get(id), null); });
      return;
    }
    var entry = outgoing.get(payload.messageId);
    if (!entry) { return; }
    if (payload.change === 'queued') {
      setMark(entry, 'queued', 'queued');
    } else if (payload.change === 'steered') {
      setMark(entry, 'steered', 'steered');
      window.clearTimeout(steeredTimers.get(payload.messageId));
      steeredTimers.set(payload.messageId, window.setTimeout(function () {
        steeredTimers.delete(payload.messageId);
        var mark = entry.el.querySelector('.steered');
        if (mark) { mark.remove(); }
      }, 2500));
    } else if (payload.change === 'dropped') {
      setMark(entry, null);
      entry.answered = true; // accounted for: never resent
      var dropped = document.createElement('span');
      dropped.className = 'dropped';
      dropped.textContent = 'dropped: ' + (payload.reason || 'no reason given');
      entry.el.querySelector('.marks').append(dropped);
    }
  }

  // ---- sending -----------------------------------------------------------------------------------

  /** Sends every message not yet acknowledged, one after another so the gateway sees them in order. */
  function flushOutgoing() {
    outgoing.forEach(function (entry, messageId) {
      if (entry.acked || entry.answered || entry.inFlight) { return; }
      entry.inFlight = true;
      var socket = ws;
      sendChain = sendChain.then(function () {
        // The connection went away meanwhile; onclose already released the entry for the next one.
        if (!connected || ws !== socket) { return null; }
        return request('chat.send', { conversation: entry.conversation, text: entry.text, messageId: messageId })
          .then(function () {
            entry.acked = true;
            entry.inFlight = false;
            entry.el.classList.remove('unsent');
          }, function (error) {
            entry.inFlight = false;
            if (error && error.code && error.code !== 'UNAUTHORIZED') {
              // The gateway refused the message itself: say so, and do not resend it.
              entry.answered = true;
              entry.el.classList.remove('unsent');
              var failed = document.createElement('span');
              failed.className = 'dropped';
              failed.textContent = 'not sent: ' + (error.message || error.code);
              entry.el.querySelector('.marks').append(failed);
            }
          });
      });
    });
  }

  function sendMessage() {
    var text = els.composer.value;
    if (text.trim() === '') { return; }
    var messageId = randomId();
    var el = userBubble(text, messageId);
    el.classList.add('unsent');
    outgoing.set(messageId, { conversation: conversation, text: text, el: el, acked: false, answered: false, inFlight: false });
    els.messages.append(el);
    scrollToEnd(true);
    els.composer.value = '';
    if (connected) { flushOutgoing(); }
  }

  els.composerForm.addEventListener('submit', function (event) {
    event.preventDefault();
    sendMessage();
    els.composer.focus();
  });

  els.composer.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      sendMessage();
    }
  });

  els.tokenForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var token = els.tokenInput.value;
    if (token === '') { return; }
    storeToken(token);
    els.tokenInput.value = '';
    els.tokenForm.hidden = true;
    needsToken = false;
    attempt = 0;
    if (reconnectTimer !== null) { window.clearTimeout(reconnectTimer); reconnectTimer = null; }
    setConnState('connecting');
    if (ws) {
      var old = ws;
      ws = null;
      old.close();
    }
    open();
  });

  els.conversationForm.addEventListener('submit', function (event) {
    event.preventDefault();
    var next = els.conversationInput.value.trim();
    if (next === '' || next === conversation) { return; }
    conversation = next;
    safeSet(window.localStorage, CONVERSATION_KEY, conversation);
    clearConversationView();
    if (connected) { loadHistory(); }
  });

  setConnState('connecting');
  open();
})();
