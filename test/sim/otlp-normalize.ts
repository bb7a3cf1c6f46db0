// Decode OTLP trace export requests (protobuf via the generated legacy decoder, or JSON) and
// normalize their spans into flat `OtlpSpan`s that tests can assert on.
import { createRequire } from "node:module";
import type { OtlpAttributes, OtlpSpan, OtlpValue } from "./types.ts";

// Only the generated protobufjs file: the alias's package index would load the 2.x SDK against api 1.10.
interface ProtoType {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, opts: Record<string, unknown>): unknown;
}
let requestType: ProtoType | undefined;
function exportTraceServiceRequest(): ProtoType {
  if (!requestType) {
    const root = createRequire(import.meta.url)("otlp-transformer-legacy/build/src/generated/root.js") as {
      opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: ProtoType } } } } };
    };
    requestType = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
  }
  return requestType;
}

type IdEncoding = "base64" | "hex";

interface RawKeyValue {
  key?: string;
  value?: RawAnyValue;
}
interface RawAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: string | number;
  arrayValue?: { values?: RawAnyValue[] };
  kvlistValue?: { values?: RawKeyValue[] };
  bytesValue?: string;
}
interface RawSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  traceState?: string;
  name?: string;
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: RawKeyValue[];
  status?: { code?: number | string; message?: string };
  links?: { traceId?: string; spanId?: string; attributes?: RawKeyValue[] }[];
  events?: { name?: string; timeUnixNano?: string | number; attributes?: RawKeyValue[] }[];
}
interface RawRequest {
  resourceSpans?: {
    resource?: { attributes?: RawKeyValue[] };
    scopeSpans?: { scope?: { name?: string; version?: string }; spans?: RawSpan[] }[];
  }[];
}

function flattenValue(v: RawAnyValue | undefined): OtlpValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(flattenValue);
  if (v.kvlistValue !== undefined) return flattenAttributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) return String(v.bytesValue);
  return null;
}

export function flattenAttributes(list: RawKeyValue[] | undefined): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const kv of list ?? []) if (kv.key !== undefined) out[kv.key] = flattenValue(kv.value);
  return out;
}

function toHex(id: string | undefined, encoding: IdEncoding): string {
  if (!id) return "";
  // OTLP/JSON uses hex; tolerate a base64 id there too (some producers get this wrong).
  if (encoding === "hex" && /^[0-9a-fA-F]+$/.test(id) && (id.length === 16 || id.length === 32)) return id.toLowerCase();
  return Buffer.from(id, "base64").toString("hex");
}

const ns = (v: string | number | undefined): string => (v === undefined ? "0" : String(v));

function normalize(req: RawRequest, encoding: IdEncoding): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = flattenAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      const scope: OtlpSpan["scope"] = { name: ss.scope?.name ?? "" };
      if (ss.scope?.version) scope.version = ss.scope.version;
      for (const s of ss.spans ?? []) {
        const parent = toHex(s.parentSpanId, encoding);
        const status: OtlpSpan["status"] = { code: Number(s.status?.code ?? 0) };
        if (s.status?.message) status.message = s.status.message;
        spans.push({
          traceId: toHex(s.traceId, encoding),
          spanId: toHex(s.spanId, encoding),
          ...(parent ? { parentSpanId: parent } : {}),
          ...(s.traceState ? { traceState: s.traceState } : {}),
          name: s.name ?? "",
          kind: Number(s.kind ?? 0),
          startTimeUnixNano: ns(s.startTimeUnixNano),
          endTimeUnixNano: ns(s.endTimeUnixNano),
          attributes: flattenAttributes(s.attributes),
          status,
          links: (s.links ?? []).map((l) => ({
            traceId: toHex(l.traceId, encoding),
            spanId: toHex(l.spanId, encoding),
            attributes: flattenAttributes(l.attributes),
          })),
          events: (s.events ?? []).map((e) => ({
            name: e.name ?? "",
            timeUnixNano: ns(e.timeUnixNano),
            attributes: flattenAttributes(e.attributes),
          })),
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

export function decodeProtobufSpans(body: Uint8Array): OtlpSpan[] {
  const type = exportTraceServiceRequest();
  const obj = type.toObject(type.decode(body), { longs: String, bytes: String }) as RawRequest;
  return normalize(obj, "base64");
}

export function decodeJsonSpans(body: Uint8Array): OtlpSpan[] {
  return normalize(JSON.parse(Buffer.from(body).toString("utf8")) as RawRequest, "hex");
}
