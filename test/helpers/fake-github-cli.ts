// `github-fake` for golden scripts: steers the fake GitHub API the case runs against
// (GITHUB_API_URL).
//   github-fake fail STATUS [COUNT]   the next COUNT (1) API requests answer STATUS
//   github-fake hang [COUNT]          the next COUNT (1) API requests get no answer
//   github-fake expire-tokens         every token issued so far stops working
export {};

const [cmd, a, b] = process.argv.slice(2);
const base = process.env.GITHUB_API_URL ?? "";
const query =
  cmd === "fail" ? `?status=${a ?? 500}&count=${b ?? 1}`
  : cmd === "hang" ? `?count=${a ?? 1}`
  : "";
if (!["fail", "hang", "expire-tokens"].includes(cmd ?? "")) {
  console.error("usage: github-fake fail STATUS [COUNT] | hang [COUNT] | expire-tokens");
  process.exit(2);
}
const res = await fetch(`${base}/_fake/${cmd}${query}`, { method: "POST" });
if (!res.ok) {
  console.error(`github-fake ${cmd}: HTTP ${res.status}`);
  process.exit(1);
}
