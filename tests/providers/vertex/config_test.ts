// A `type: "vertex"` provider from gateway.json: the endpoint from project and region (baseUrl
// replaces the host), the service account key file read from the variable `credentials` names,
// and start-up errors that name the field.
import assert from "node:assert/strict";
import { buildConfig, ConfigError } from "../../../src/config.ts";
import { testAccount } from "./_test_key.ts";

const sa = await testAccount("https://oauth2.googleapis.com/token");
const ENV: Record<string, string | undefined> = { SA_JSON: sa.json, BROKEN: "{oops" };

const build = (p: Record<string, unknown>, env = ENV) =>
  buildConfig({ providers: { vx: { type: "vertex", ...p } } }, (n) => env[n], "test");

function configError(p: Record<string, unknown>, ...messages: RegExp[]) {
  assert.throws(() => build(p), (e: Error) => {
    assert.ok(e instanceof ConfigError, String(e));
    for (const m of messages) assert.match(e.message, m);
    return true;
  });
}

Deno.test("vertex config: project and region give the endpoint; the key file is read", () => {
  const c = build({ project: "my-proj", region: "us-central1", credentials: "env:SA_JSON" });
  const p = c.providers.vx;
  assert.equal(
    p.baseUrl,
    "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1",
  );
  assert.deepEqual(p.serviceAccount, sa.account);
  assert.equal(p.serviceAccountEnv, "SA_JSON");
  assert.equal("credentials" in p && p.credentials !== undefined, false, "no AWS credentials");
});

Deno.test("vertex config: the global location, and baseUrl replacing the host", () => {
  assert.equal(
    build({ project: "p-1", region: "global", credentials: "env:SA_JSON" }).providers.vx.baseUrl,
    "https://aiplatform.googleapis.com/v1/projects/p-1/locations/global",
  );
  assert.equal(
    build({ project: "p-1", region: "europe-west4", baseUrl: "http://127.0.0.1:8123/" })
      .providers.vx.baseUrl,
    "http://127.0.0.1:8123/v1/projects/p-1/locations/europe-west4",
  );
});

Deno.test("vertex config: a legacy domain-scoped project id is accepted", () => {
  assert.equal(
    build({ project: "example.com:my-proj", region: "us-east5" }).providers.vx.baseUrl,
    "https://us-east5-aiplatform.googleapis.com/v1/projects/example.com%3Amy-proj/locations/us-east5",
  );
});

Deno.test("vertex config: mistakes stop start-up naming the field", () => {
  configError({ region: "us-central1" }, /providers\.vx\.project: required for type "vertex"/);
  configError({ project: "p-1" }, /providers\.vx\.region: required .*us-central1/);
  configError({ project: "My_Proj", region: "us-central1" }, /project/);
  configError(
    { project: "p-1", region: "us-central1", credentials: "env:NOPE" },
    /providers\.vx\.credentials: environment variable NOPE is not set/,
  );
  configError(
    { project: "p-1", region: "us-central1", credentials: "env:BROKEN" },
    /providers\.vx\.credentials: the service account key file in BROKEN is not valid JSON/,
  );
  configError(
    { project: "p-1", region: "us-central1", credentials: sa.json },
    /credentials.*must reference an environment variable/,
  );
  const noEmail = JSON.stringify({ ...JSON.parse(sa.json), client_email: undefined });
  assert.throws(
    () => build({ project: "p-1", region: "us-central1", credentials: "env:X" }, { X: noEmail }),
    /providers\.vx\.credentials: the service account key file in X has no client_email/,
  );
});
