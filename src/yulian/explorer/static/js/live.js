// Live updates: the one place where the explorer learns that the chain moved. Today it polls
// /v1/health and fetches each new block; when the node's event stream arrives, this module
// subscribes to it instead and nothing else changes. Listeners get
//   {type: "head", health}            after every successful poll,
//   {type: "block", block}            once per new block, in height order,
//   {type: "offline", error}          when the node cannot be reached.

import { api } from "./api.js";

const POLL_MS = 2000;
const MAX_BLOCKS_PER_POLL = 20;
const listeners = new Set();
let timer = null;
let lastHeight = null;
let lastHealth = null;

function emit(event) {
  for (const fn of listeners) {
    try {
      fn(event);
    } catch (e) {
      console.error(e);
    }
  }
}

async function poll() {
  try {
    const health = await api.health();
    lastHealth = health;
    if (lastHeight !== null && health.height > lastHeight) {
      const from = Math.max(lastHeight + 1, health.height - MAX_BLOCKS_PER_POLL + 1);
      for (let h = from; h <= health.height; h++) {
        try {
          emit({ type: "block", block: await api.block(h) });
        } catch {
          /* the next poll shows the head again */
        }
      }
    }
    lastHeight = health.height;
    emit({ type: "head", health });
  } catch (error) {
    emit({ type: "offline", error });
  }
  timer = setTimeout(poll, POLL_MS);
}

/** Call ``fn`` with every live event until the returned function is called. */
export function subscribe(fn) {
  listeners.add(fn);
  if (lastHealth) fn({ type: "head", health: lastHealth });
  if (timer === null) timer = setTimeout(poll, 0);
  return () => listeners.delete(fn);
}

/** The last head seen (or null before the first poll). */
export function lastHead() {
  return lastHealth;
}
