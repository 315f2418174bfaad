import assert from "node:assert/strict";
import { toCloudEvent } from "../../src/events/envelope.ts";
import { formatEventLine } from "../../src/events/format.ts";
import { renderEvent } from "../../src/events/render.ts";
import { SAMPLES } from "./_samples.ts";

const fallback = toCloudEvent(SAMPLES["fallback.taken"], "01ab", "gw-1");
const msg = { subject: fallback.subject, bytes: 10, event: fallback };

Deno.test("readable mode prints the same line as the plain tail", () => {
  assert.equal(renderEvent(msg, { json: false }), formatEventLine(fallback));
});

Deno.test("--json prints the CloudEvent on exactly one line, parseable back to the same event", () => {
  const pretty = JSON.parse(JSON.stringify(fallback, null, 2));
  const out = renderEvent({ ...msg, event: pretty }, { json: true })!;
  assert.ok(!out.includes("\n"));
  assert.deepEqual(JSON.parse(out), fallback);
});

Deno.test("--provider keeps events about that provider, fallbacks away from it included", () => {
  assert.ok(renderEvent(msg, { json: false, provider: "openai" })); // fromProvider
  assert.ok(renderEvent(msg, { json: false, provider: "anthropic" })); // provider
  assert.equal(renderEvent(msg, { json: false, provider: "groq" }), undefined);
  const started = toCloudEvent(SAMPLES["request.started"], "x", "gw-1");
  assert.equal(
    renderEvent({ subject: started.subject, bytes: 1, event: started }, {
      json: true,
      provider: "openai",
    }),
    undefined,
  );
});

Deno.test("an unreadable payload is named in readable mode and left out of JSON output", () => {
  const bad = { subject: "gateway.attempt.failed.openai", bytes: 7 };
  assert.equal(
    renderEvent(bad, { json: false }),
    "gateway.attempt.failed.openai  (unreadable payload, 7 bytes)",
  );
  assert.equal(renderEvent(bad, { json: true }), undefined);
});
