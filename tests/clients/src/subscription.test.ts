// A graphql-ws subscription that survives a dropped connection: the
// client keeps the last position it received in the subscription's
// variables, graphql-ws re-sends them when it reconnects, and the server
// replays what was missed (`after:`) before going live. Nothing is lost,
// nothing arrives twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import WebSocket from "ws";
import { createClient } from "graphql-ws";
import { print } from "graphql";
import { FindIndicatorDocument, IndicatorEventsDocument, ReportEstimateDocument } from "./gql/graphql.js";
import type { IndicatorEventsSubscription } from "./gql/graphql.js";
import { request, tokens, url } from "./client.js";

/** A TCP relay to the server that the test can cut, as a network would. */
class Relay {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private open = true;
  port = 0;

  constructor(private target: URL) {
    this.server = net.createServer((client) => {
      if (!this.open) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Drops every connection and refuses new ones until `restore`. */
  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  close(): void {
    this.cut();
    this.server.close();
  }
}

type Event = IndicatorEventsSubscription["indicatorEvents"];

test("a subscription resumes after a dropped connection with no gap and no duplicate", async () => {
  const found = await request(FindIndicatorDocument, { name: "Sản lượng lúa" }, tokens.viewer);
  const rice = found.data?.indicators.nodes[0]?.id;
  assert.ok(rice, JSON.stringify(found));

  const report = async (amount: string): Promise<number> => {
    const r = await request(
      ReportEstimateDocument,
      { indicator: rice, amount, refersTo: "2025-12-31" },
      tokens.reporter,
    );
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.reportActual.position;
  };

  const relay = new Relay(new URL(url));
  await relay.listen();
  const connections: number[] = [];
  const client = createClient({
    url: `ws://127.0.0.1:${relay.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${tokens.viewer}` },
    retryAttempts: 20,
    shouldRetry: () => true,
    retryWait: async () => new Promise((r) => setTimeout(r, 200)),
    on: { connected: () => connections.push(Date.now()) },
  });

  const received: Event[] = [];
  let waiting: (() => void) | undefined;
  // graphql-ws stringifies the payload each time it (re)subscribes: the
  // position kept here is what the server resumes after.
  const variables: { indicator: string; after?: number } = { indicator: rice };
  const payload = { query: print(IndicatorEventsDocument), variables };
  const failed: unknown[] = [];
  const unsubscribe = client.subscribe<IndicatorEventsSubscription>(payload, {
    next: (message) => {
      if (message.errors) failed.push(message.errors);
      const event = message.data?.indicatorEvents;
      if (!event) return;
      received.push(event);
      variables.after = event.position;
      waiting?.();
    },
    error: (e) => failed.push(e),
    complete: () => {},
  });
  const until = async (count: number) => {
    const deadline = Date.now() + 20_000;
    while (received.length < count) {
      assert.ok(Date.now() < deadline, `only ${received.length} of ${count} events arrived`);
      await new Promise<void>((r) => {
        waiting = r;
        setTimeout(r, 250);
      });
    }
  };

  try {
    // Subscribed (the server acknowledges before it delivers).
    while (connections.length === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const written = [await report("91001")];
    await until(1);

    relay.cut();
    written.push(await report("91002"));
    written.push(await report("91003"));
    relay.restore();
    await until(3);
    assert.ok(connections.length >= 2, "the client reconnected");

    written.push(await report("91004"));
    await until(4);
    await new Promise((r) => setTimeout(r, 500));

    assert.deepEqual(failed, []);
    assert.deepEqual(
      received.map((e) => e.position),
      written,
      "every event once, in log order",
    );
    assert.equal(received.at(-1)?.indicator.latestActual?.figure, "91004");
    assert.ok(received.every((e) => e.kind === "actual_reported"));
  } finally {
    unsubscribe();
    await client.dispose();
    relay.close();
  }
});
