// The node's REST API, as the explorer reads it. Every request goes through getJson, which
// keeps integers beyond 2^53 exact and turns RFC 9457 problems into ApiError (with the code).

import { parseJson } from "./verify/jsonvalue.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem.code ?? "http_error"}: ${problem.detail ?? ""}`);
    this.status = status;
    this.code = problem.code ?? "http_error";
    this.detail = problem.detail ?? "";
    this.problem = problem; // its members too (a 410 says where archived blocks are)
  }
}

async function request(path, init) {
  const response = await fetch(path, { cache: "no-store", ...init });
  const text = await response.text();
  let body;
  try {
    body = text ? parseJson(text) : null;
  } catch {
    body = { code: "http_error", detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, body ?? {});
  return body;
}

const seg = encodeURIComponent;

/** A query string of the given parameters, empty ones left out. */
function search(query) {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") out.set(k, String(v));
  return out.toString();
}

export const api = {
  health: () => request("/v1/health"),
  block: (height) => request(`/v1/blocks/${height}`),
  blockList: (before, limit) => request(`/v1/blocks?before=${before}&limit=${limit}`),
  blockByHash: (hash) => request(`/v1/blocks/by-hash/${seg(hash)}`),
  blockTxs: (height, offset = 0, limit = 50) => request(`/v1/blocks/${height}/txs?offset=${offset}&limit=${limit}`),
  tx: (id) => request(`/v1/txs/${seg(id)}`),
  state: (contract, key) => request(`/v1/state/${seg(contract)}/${key.split("/").map(seg).join("/")}`),
  history: (contract, key, limit = 100) =>
    request(`/v1/state/${seg(contract)}/${key.split("/").map(seg).join("/")}/history?limit=${limit}`),
  consortium: () => request("/v1/consortium"),
  validators: (height) => request(height === undefined ? "/v1/validators" : `/v1/validators?height=${height}`),
  query: (contract, method, args = []) =>
    request("/v1/query", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contract, method, args }),
    }),
  txWrites: (id) => request(`/v1/txs/${seg(id)}/writes`),
  contracts: () => request("/v1/contracts"),
  contract: (name) => request(`/v1/contracts/${seg(name)}`),
  contractCode: (name, version) =>
    request(`/v1/contracts/${seg(name)}/code${version ? `?version=${seg(version)}` : ""}`),
  proposals: (query = {}) => request(`/v1/proposals?${search(query)}`),
  events: (query = {}) => request(`/v1/events?${search(query)}`),
  genesisText: async () => {
    const response = await fetch("genesis.json", { cache: "no-store" });
    if (!response.ok) throw new ApiError(response.status, { code: "not_found", detail: "genesis.json" });
    return response.text();
  },
};

/** Blocks ``from``..``to`` (inclusive), fetched a few at a time; missing ones are skipped. */
export async function blocks(from, to, concurrency = 6) {
  const heights = [];
  for (let h = Math.max(1, from); h <= to; h++) heights.push(h);
  const out = new Array(heights.length);
  let next = 0;
  async function worker() {
    while (next < heights.length) {
      const i = next++;
      try {
        out[i] = await api.block(heights[i]);
      } catch {
        out[i] = null;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out.filter(Boolean);
}
