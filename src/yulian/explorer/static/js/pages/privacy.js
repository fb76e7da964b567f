// The privacy page (privacy.html, decision 0084): collections and their proposals, the access
// trail a collection's auditors (a regulator) see, a data subject's view of who read their
// records, and consent grants — each read through the query methods of the collections,
// access and consent system contracts, signed as the signed-in identity, so the page shows
// exactly what the API allows that caller and says why when it refuses.

import { ApiError } from "../api.js";
import { makeWallet, signedQuery } from "../auth.js";

const PAGE = 100;
let wallet = null;
let chain = null; // {chainId, suite}

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function table(columns, rows, label) {
  const head = el("tr", {}, ...columns.map(([title]) => el("th", { scope: "col" }, title)));
  const body = rows.map((r) => el("tr", {}, ...columns.map(([, get]) => el("td", {}, get(r)))));
  return el("table", { "aria-label": label }, el("thead", {}, head), el("tbody", {}, ...body));
}

function refusal(target, e) {
  const text = e instanceof ApiError ? e.detail || e.message : String(e.message ?? e);
  target.replaceChildren(el("p", { class: "refused", role: "note" }, `拒绝 refused: ${text}`));
}

async function query(contract, method, args) {
  const answer = await signedQuery(wallet, chain.chainId, contract, method, args);
  if (answer.status !== "ok") {
    throw new ApiError(403, { code: answer.status, detail: answer.message });
  }
  return answer.value;
}

const attrs = (a) =>
  Object.entries(a ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");

const READ_COLUMNS = [
  ["#", (r) => r.id],
  ["高度 height", (r) => r.height],
  ["读者 reader", (r) => `${r.reader_org} ${r.reader_role} ${attrs(r.reader_attributes)}`.trim()],
  ["数据 key", (r) => `${r.collection}/${r.key} v${r.version}`],
  ["主体 subject", (r) => r.subject],
  ["用途 purpose", (r) => r.purpose],
  ["依据 basis", (r) => (r.grant_id ? `${r.basis} #${r.grant_id}` : r.basis)],
];

const GRANT_COLUMNS = [
  ["#", (g) => g.id],
  ["范围 scope", (g) => `${g.scope} ${g.subject || g.key || g.owner}`],
  ["被授权 grantee", (g) => g.grantee],
  ["用途 purposes", (g) => g.purposes.join(", ")],
  ["授权方 grantor", (g) => g.grantor_org],
  ["生效 from", (g) => g.granted_at],
  ["状态 state", (g) => (g.in_force ? "有效 in force" : g.revoked_at ? `撤销 revoked @${g.revoked_at}` : "过期 expired")],
];

async function showCollections() {
  let collections = [];
  try {
    collections = await query("collections", "collections", []);
  } catch (e) {
    refusal($("collections"), e);
    $("proposals").replaceChildren();
    return [];
  }
  $("collections").replaceChildren(
    table(
      [
        ["名称 name", (c) => c.name],
        ["成员 members", (c) => c.members.join(", ")],
        ["写 writers", (c) => c.writers.join(" ")],
        ["读 readers", (c) => c.readers.join(" ")],
        ["审计 auditors", (c) => c.auditors.join(" ")],
        ["需同意 consent", (c) => (c.consent ? "是 yes" : "否 no")],
        ["保留区块 blocks to live", (c) => c.blocks_to_live || "∞"],
        ["键 keys", (c) => c.keys],
      ],
      collections,
      "collections",
    ),
  );
  try {
    const open = await query("collections", "proposals", []);
    $("proposals").replaceChildren(
      el("h3", {}, "待决提案 open proposals"),
      open.length
        ? table(
            [
              ["#", (p) => p.id],
              ["类型 kind", (p) => p.kind],
              ["提议 by", (p) => p.proposer_org ?? p.proposer ?? ""],
              ["赞成 approvals", (p) => (p.approvals ?? []).join(", ")],
            ],
            open,
            "proposals",
          )
        : el("p", {}, "无 none"),
    );
  } catch (e) {
    refusal($("proposals"), e);
  }
  return collections;
}

async function showTrails(collections) {
  const trail = [];
  const grants = [];
  const mine = [];
  const subject = wallet?.cert.attributes?.subject ?? "";
  const refusals = [];
  for (const c of collections) {
    try {
      trail.push(...(await query("access", "trail", [c.name, 0, PAGE])).items);
      grants.push(...(await query("consent", "grants", [c.name, 0, PAGE])).items);
    } catch (e) {
      refusals.push(e);
    }
    if (subject) {
      try {
        mine.push(...(await query("access", "subject_trail", [c.name, subject, 0, PAGE])).items);
        const own = await query("consent", "subject_grants", [c.name, subject, 0, PAGE]);
        for (const g of own.items) if (!grants.some((x) => x.id === g.id)) grants.push(g);
      } catch {
        // not a subject certified for this collection
      }
    }
  }
  if (trail.length || !refusals.length) {
    $("trail").replaceChildren(table(READ_COLUMNS, trail, "access trail"));
  } else {
    refusal($("trail"), refusals[0]);
  }
  $("mine").replaceChildren(
    subject
      ? table(READ_COLUMNS, mine, "reads of my data")
      : el("p", {}, "证书中没有数据主体属性 (subject=…) · no subject attribute in this certificate"),
  );
  $("grants").replaceChildren(table(GRANT_COLUMNS, grants, "grants"));
}

async function refresh() {
  const collections = await showCollections();
  await showTrails(collections);
}

async function readText(input) {
  const file = input.files?.[0];
  if (!file) throw new Error("选择文件 choose a file");
  return file.text();
}

async function signIn(event) {
  event.preventDefault();
  try {
    wallet = makeWallet(chain.suite, await readText($("key-file")), await readText($("cert-file")));
    const c = wallet.cert;
    $("who").textContent = `${c.org} · ${c.role} · ${c.name} ${attrs(c.attributes)}`.trim();
  } catch (e) {
    wallet = null;
    $("who").textContent = `登录失败 sign-in failed: ${e.message}`;
    return;
  }
  await refresh();
}

async function start() {
  const health = await (await fetch("/v1/health", { cache: "no-store" })).json();
  const genesis = await (await fetch("genesis.json", { cache: "no-store" })).json();
  chain = { chainId: health.chain_id, suite: genesis.suite };
  $("signin").addEventListener("submit", signIn);
  await refresh();
  document.body.dataset.ready = "true";
}

start();
