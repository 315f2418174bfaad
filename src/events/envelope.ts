// CloudEvents 1.0 JSON envelope around a domain event.
import { type GatewayEvent, SCHEMA_VERSION, subjectOf } from "./catalogue.ts";

export interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject: string;
  datacontenttype: "application/json";
  dataschemaversion: number;
  data: Omit<GatewayEvent, "type" | "at">;
}

/** The CloudEvents `source` of a gateway instance (a replica, or one worker of it). */
export const sourceOf = (instance: string) => `/gateway/${instance}`;

/** Wraps `event`; `id` is time-ordered and doubles as the JetStream Nats-Msg-Id. */
export function toCloudEvent(event: GatewayEvent, id: string, instance: string): CloudEvent {
  const { type, at, ...data } = event;
  return {
    specversion: "1.0",
    id,
    source: sourceOf(instance),
    type: `gateway.${type}`,
    time: new Date(at).toISOString(),
    subject: subjectOf(event),
    datacontenttype: "application/json",
    dataschemaversion: SCHEMA_VERSION,
    data,
  };
}

/** Inverse of toCloudEvent, for replay and the CLI. Throws on something that is not ours. */
export function fromCloudEvent(ce: CloudEvent): GatewayEvent {
  if (ce?.specversion !== "1.0" || typeof ce.type !== "string" || !ce.type.startsWith("gateway.")) {
    throw new Error("not a gateway CloudEvent");
  }
  return {
    ...ce.data,
    type: ce.type.slice("gateway.".length),
    at: Date.parse(ce.time),
  } as GatewayEvent;
}
