// What a served attempt cost, from the `pricing` table of gateway.json (USD per million tokens,
// keyed "provider/model"). Amounts are integers in nano-USD so sums never drift.

export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** 1 USD = 1e9 nano-USD. */
export const NANO = 1e9;

export const toUsd = (nanoUsd: number) => nanoUsd / NANO;
export const toNanoUsd = (usd: number) => Math.round(usd * NANO);

/** The price of `provider/model`, or undefined when the table does not list it. */
export function priceOf(
  pricing: Readonly<Record<string, Price>>,
  provider: string,
  model: string,
): Price | undefined {
  const ref = `${provider}/${model}`;
  return Object.hasOwn(pricing, ref) ? pricing[ref] : undefined;
}

/** Cost in nano-USD: a price per million tokens is a price in micro-USD per token. */
export function costNanoUsd(price: Price, usage: TokenUsage): number {
  return Math.round(
    (usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) * 1000,
  );
}
