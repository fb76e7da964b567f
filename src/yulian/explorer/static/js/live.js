// Live updates: the one place where the explorer learns that the chain moved. It holds one
// WebSocket on the node's event stream (/v1/events/stream, docs/api.md) subscribed to block
// messages, and resumes after the last block it saw when the connection ends (a restart, a
// 4408 for a tab that was asleep): no block is missed or shown twice. Listeners get
//   {type: "head", health}            after the head moved (and once when connected),
//   {type: "block", block}            once per new block, in height order,
//   {type: "offline", error}          when the node cannot be reached.

import { api } from "./api.js";

const STREAM_PATH = "/v1/events/stream";
const RETRY_MS = [500, 1000, 2000, 5000];
const MAX_BLOCKS_BEHIND = 20; // after a long absence only the newest blocks are fetched
const listeners = new Set();
let socket = null;
let cursor = null; // of the last block message handled: where a new connection resumes
let lastHealth = null;
let failures = 0;
let pending = []; // block messages not yet fetched and handed out
let draining = false;

function emit(event) {
  for (const fn of listeners) {
    try {
      fn(event);
    } catch (e) {
      console.error(e);
    }
  }
}

async function refreshHead() {
  try {
    lastHealth = await api.health();
    emit({ type: "head", health: lastHealth });
  } catch (error) {
    emit({ type: "offline", error });
  }
}

/** Fetch the blocks the stream announced, one at a time and in order, then the head. */
async function drain() {
  if (draining) return;
  draining = true;
  try {
    while (pending.length) {
      const batch = pending.slice(-MAX_BLOCKS_BEHIND);
      pending = [];
      for (const message of batch) {
        try {
          emit({ type: "block", block: await api.block(message.height) });
        } catch {
          /* the block page shows it on the next visit */
        }
      }
      await refreshHead();
    }
  } finally {
    draining = false;
  }
}

function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${STREAM_PATH}`;
}

function connect() {
  const ws = new WebSocket(streamUrl());
  socket = ws;
  ws.onopen = () => {
    const request = { type: "subscribe", blocks: true, events: [] };
    if (cursor) request.after = cursor;
    ws.send(JSON.stringify(request));
  };
  ws.onmessage = (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    // a frame is a message or a batch of them (docs/api.md, "Frames")
    for (const m of Array.isArray(frame) ? frame : [frame]) {
      if (m.type === "live") {
        failures = 0;
        refreshHead();
      } else if (m.type === "block") {
        cursor = m.cursor;
        pending.push(m);
      }
    }
    drain();
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    if (event.code !== 1000) failures += 1;
    if (failures > 1) emit({ type: "offline", error: new Error(`stream closed: ${event.code} ${event.reason}`) });
    if (listeners.size) setTimeout(connect, RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]);
  };
}

/** Call ``fn`` with every live event until the returned function is called. */
export function subscribe(fn) {
  listeners.add(fn);
  if (lastHealth) fn({ type: "head", health: lastHealth });
  if (socket === null) connect();
  return () => listeners.delete(fn);
}

/** The last head seen (or null before the first one). */
export function lastHead() {
  return lastHealth;
}
