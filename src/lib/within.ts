// Waiting a bounded time for something that may never come: the promise's value when it settles
// within `ms`, undefined when it fails or the time is up. The timer never outlives the wait.

export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms));
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}
