// Every registered adapter family passes the same contract, with fixtures in its own wire format.
// A family without a contract case fails here: adding an adapter means adding its fixtures.
import assert from "node:assert/strict";
import { ADAPTER_FAMILIES, adapterFor } from "../../src/providers/mod.ts";
import { type ContractCase, runContract } from "./contract/harness.ts";

for (const family of ADAPTER_FAMILIES) {
  Deno.test(`adapter contract: ${family}`, async () => {
    const mod = await import(`./contract/${family}.ts`).catch(() => undefined);
    assert.ok(mod?.contract, `tests/providers/contract/${family}.ts must export a ContractCase`);
    const c = mod.contract as ContractCase;
    assert.equal(c.family, family);
    await runContract(adapterFor(family)!, c);
  });
}
