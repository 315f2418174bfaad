import assert from "node:assert/strict";
import { SCHEMA_VERSION } from "../../src/events/catalogue.ts";
import { fromCloudEvent, toCloudEvent } from "../../src/events/envelope.ts";
import { AT, SAMPLES } from "./_samples.ts";

Deno.test("toCloudEvent builds a CloudEvents 1.0 envelope", () => {
  const ce = toCloudEvent(SAMPLES["attempt.failed"], "0190abc", "eu-1");
  assert.equal(ce.specversion, "1.0");
  assert.equal(ce.id, "0190abc");
  assert.equal(ce.source, "/gateway/eu-1");
  assert.equal(ce.type, "gateway.attempt.failed");
  assert.equal(ce.time, new Date(AT).toISOString());
  assert.equal(ce.subject, "gateway.attempt.failed.openai");
  assert.equal(ce.datacontenttype, "application/json");
  assert.equal(ce.dataschemaversion, SCHEMA_VERSION);
  assert.equal((ce.data as { status?: number }).status, 429);
  assert.ok(!("type" in ce.data) && !("at" in ce.data), "type and at live in the envelope only");
});

Deno.test("subject falls back to _ for events without a provider", () => {
  assert.equal(
    toCloudEvent(SAMPLES["request.started"], "1", "a").subject,
    "gateway.request.started._",
  );
});

Deno.test("every event survives a JSON round trip through the envelope", () => {
  for (const event of Object.values(SAMPLES)) {
    const wire = JSON.parse(JSON.stringify(toCloudEvent(event, "id-1", "i")));
    assert.deepEqual(fromCloudEvent(wire), event);
  }
});

Deno.test("fromCloudEvent rejects what is not a gateway CloudEvent", () => {
  const ce = toCloudEvent(SAMPLES["breaker.closed"], "1", "a");
  assert.throws(() => fromCloudEvent({ ...ce, type: "com.example.other" }), /not a gateway/);
  assert.throws(() => fromCloudEvent({ ...ce, specversion: "0.3" as "1.0" }), /not a gateway/);
});
