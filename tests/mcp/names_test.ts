import assert from "node:assert/strict";
import { publicToolName, publicToolNames, SEPARATOR, serverOf } from "../../src/mcp/names.ts";

const OPENAI_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

Deno.test("names: a tool is prefixed with its server and the separator", () => {
  assert.equal(SEPARATOR, "__");
  assert.equal(publicToolName("files", "read_file"), "files__read_file");
  assert.equal(publicToolName("gh", "Search-Issues"), "gh__Search-Issues");
});

Deno.test("names: characters outside OpenAI's pattern become underscores", () => {
  const cases: [string, string][] = [
    ["fs.read", "srv__fs_read"],
    ["a b/c:d", "srv__a_b_c_d"],
    ["émoji🙂", "srv___moji__"], // the emoji is two UTF-16 units
  ];
  for (const [tool, want] of cases) {
    const got = publicToolName("srv", tool);
    assert.equal(got, want, tool);
    assert.match(got, OPENAI_NAME);
  }
});

Deno.test("names: a name of exactly 64 characters is kept, one longer is cut and hashed", () => {
  const fits = "t".repeat(64 - "srv__".length);
  assert.equal(publicToolName("srv", fits), `srv__${fits}`);
  assert.equal(publicToolName("srv", fits).length, 64);

  const long = `${fits}x`;
  const got = publicToolName("srv", long);
  assert.equal(got.length, 64);
  assert.match(got, OPENAI_NAME);
  assert.match(got, /^srv__t+_[0-9a-f]{8}$/);
  assert.equal(got.slice(0, 55), `srv__${long}`.slice(0, 55));
  assert.equal(publicToolName("srv", long), got, "stable");
});

Deno.test("names: two long names with the same start stay apart", () => {
  const start = "x".repeat(80);
  const a = publicToolName("srv", `${start}_alpha`);
  const b = publicToolName("srv", `${start}_beta`);
  assert.notEqual(a, b);
  assert.equal(a.slice(0, 55), b.slice(0, 55));
  // The hash covers the server too.
  assert.notEqual(publicToolName("s1", start).slice(-8), publicToolName("s2", start).slice(-8));
});

Deno.test("names: every name matches OpenAI's pattern, even long unicode ones", () => {
  for (const tool of ["a", "ß".repeat(100), "x.y".repeat(40), "-_-"]) {
    assert.match(publicToolName("my-server_1", tool), OPENAI_NAME, tool);
  }
});

Deno.test("names: serverOf reads the server back from a public name", () => {
  for (const [server, tool] of [["files", "read"], ["gh", "a__b"], ["srv", "y".repeat(100)]]) {
    assert.equal(serverOf(publicToolName(server, tool)), server, `${server}/${tool}`);
  }
  assert.equal(serverOf("no_separator"), undefined);
  assert.equal(serverOf("__tool"), undefined);
});

Deno.test("names: a rewritten name that meets another tool's gets its own hash; a kept name stays", () => {
  const names = publicToolNames("srv", ["a_b", "a.b", "a:b", "c.d"]);
  assert.equal(names[0], "srv__a_b", "the tool really named a_b keeps its name");
  assert.match(names[1], /^srv__a_b_[0-9a-f]{8}$/);
  assert.match(names[2], /^srv__a_b_[0-9a-f]{8}$/);
  assert.equal(new Set(names).size, 4, "one public name per tool");
  assert.equal(names[3], "srv__c_d", "a rewritten name that meets nothing stays short");
  for (const n of names) assert.match(n, OPENAI_NAME);
  assert.deepEqual(
    publicToolNames("srv", ["a.b", "a_b"]).reverse(),
    publicToolNames("srv", ["a_b", "a.b"]),
    "order does not matter",
  );
});
