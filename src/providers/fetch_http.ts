// The one place that calls fetch() on an upstream. Everything else goes through ProviderHttp.
import type { ProviderHttp } from "../ports.ts";

export const fetchHttp: ProviderHttp = { fetch: (url, init) => fetch(url, init) };
