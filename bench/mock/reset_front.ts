// A plain TCP front for the mock, so that a `reset` fault can drop a connection before any
// response byte. Deno.serve always sends a response head once a handler returns (a body that
// errors at once still arrives as a 200), so the client must talk to a socket we own: each
// client connection is piped to the mock's HTTP server on a private port, and the handler names
// the connection to drop by the port it arrived from (the front's own end of that pipe).
// Deno offers no SO_LINGER, so the drop is a close (FIN) rather than an RST; to the client's
// fetch() it is the same: a network error with no status. Note that fetch quietly sends a
// request once more, on a new connection, when a reused keep-alive connection closes before any
// answer (as it would after a real RST), so a `reset` with `times: 1` may never reach the
// caller. Opt-in (MockOptions.resets), because the extra hop would skew the overhead benchmarks
// that use the mock.

export interface ResetFront {
  hostname: string;
  port: number;
  /** Closes the client connection piped to `innerPort`; false when there is none. */
  drop(innerPort: number): boolean;
  close(): void;
}

export function startResetFront(
  listen: { hostname: string; port: number },
  inner: { hostname: string; port: number },
): ResetFront {
  const listener = Deno.listen({ hostname: listen.hostname, port: listen.port, transport: "tcp" });
  const pipes = new Map<number, () => void>();

  const serve = async (client: Deno.TcpConn) => {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ ...inner, transport: "tcp" });
    } catch {
      return client.close();
    }
    const key = upstream.localAddr.port;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      pipes.delete(key);
      for (const c of [client, upstream]) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    };
    // Registered before any client byte is forwarded: the handler can always find its pipe.
    pipes.set(key, close);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const opts = { preventClose: true, preventAbort: true, preventCancel: true };
    await Promise.race([
      client.readable.pipeTo(upstream.writable, opts).catch(() => {}),
      upstream.readable.pipeTo(client.writable, opts).catch(() => {}),
    ]);
    close();
  };

  (async () => {
    try {
      for await (const conn of listener) serve(conn);
    } catch { /* listener closed */ }
  })();

  const addr = listener.addr as Deno.NetAddr;
  return {
    hostname: addr.hostname,
    port: addr.port,
    drop(innerPort) {
      const close = pipes.get(innerPort);
      close?.();
      return close !== undefined;
    },
    close() {
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const close of [...pipes.values()]) close();
    },
  };
}
