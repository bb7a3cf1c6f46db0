// Decode OTLP metric export requests (protobuf via the generated legacy decoder, or JSON) into flat
// data points that tests can assert on (the metrics half of ./otlp-normalize.ts).
import { createRequire } from "node:module";
import { flattenAttributes } from "./otlp-normalize.ts";
import type { OtlpAttributes } from "./types.ts";

export interface OtlpMetricPoint {
  name: string;
  unit: string;
  kind: "histogram" | "sum" | "gauge" | "other";
  /** 1 = delta, 2 = cumulative (OTLP AggregationTemporality); undefined for gauges. */
  temporality?: number;
  monotonic?: boolean;
  attributes: OtlpAttributes;
  /** Sum / gauge value. */
  value?: number;
  /** Histogram fields. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  resource: OtlpAttributes;
  scope: { name: string; version?: string };
}

interface ProtoType {
  decode(buf: Uint8Array): unknown;
  toObject(msg: unknown, opts: Record<string, unknown>): unknown;
}
let requestType: ProtoType | undefined;
function exportMetricsServiceRequest(): ProtoType {
  if (!requestType) {
    const root = createRequire(import.meta.url)("otlp-transformer-legacy/build/src/generated/root.js") as {
      opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: ProtoType } } } } };
    };
    requestType = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
  }
  return requestType;
}

type Num = number | string | undefined;
type RawKv = Parameters<typeof flattenAttributes>[0];
interface RawPoint {
  attributes?: RawKv;
  asInt?: Num;
  asDouble?: Num;
  count?: Num;
  sum?: Num;
  min?: Num;
  max?: Num;
  bucketCounts?: Num[];
  explicitBounds?: Num[];
}
interface RawMetric {
  name?: string;
  unit?: string;
  sum?: { dataPoints?: RawPoint[]; aggregationTemporality?: Num; isMonotonic?: boolean };
  gauge?: { dataPoints?: RawPoint[] };
  histogram?: { dataPoints?: RawPoint[]; aggregationTemporality?: Num };
}
interface RawRequest {
  resourceMetrics?: {
    resource?: { attributes?: RawKv };
    scopeMetrics?: { scope?: { name?: string; version?: string }; metrics?: RawMetric[] }[];
  }[];
}

const num = (v: Num): number | undefined => (v === undefined ? undefined : Number(v));
const TEMPORALITY: Record<string, number> = { AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 };
const temporalityOf = (v: Num): number | undefined => (typeof v === "string" && v in TEMPORALITY ? TEMPORALITY[v] : num(v));

function normalize(req: RawRequest): OtlpMetricPoint[] {
  const out: OtlpMetricPoint[] = [];
  for (const rm of req.resourceMetrics ?? []) {
    const resource = flattenAttributes(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? []) {
      const scope: OtlpMetricPoint["scope"] = { name: sm.scope?.name ?? "" };
      if (sm.scope?.version) scope.version = sm.scope.version;
      for (const m of sm.metrics ?? []) {
        const common = { name: m.name ?? "", unit: m.unit ?? "", resource, scope };
        for (const p of m.histogram?.dataPoints ?? []) {
          out.push({
            ...common,
            kind: "histogram",
            ...defined({ temporality: temporalityOf(m.histogram?.aggregationTemporality), min: num(p.min), max: num(p.max) }),
            attributes: flattenAttributes(p.attributes),
            count: num(p.count) ?? 0,
            sum: num(p.sum) ?? 0,
            bucketCounts: (p.bucketCounts ?? []).map(Number),
            explicitBounds: (p.explicitBounds ?? []).map(Number),
          });
        }
        for (const p of m.sum?.dataPoints ?? []) {
          out.push({
            ...common,
            kind: "sum",
            ...defined({ temporality: temporalityOf(m.sum?.aggregationTemporality), monotonic: m.sum?.isMonotonic ?? false }),
            attributes: flattenAttributes(p.attributes),
            value: num(p.asInt) ?? num(p.asDouble) ?? 0,
          });
        }
        for (const p of m.gauge?.dataPoints ?? []) {
          out.push({ ...common, kind: "gauge", attributes: flattenAttributes(p.attributes), value: num(p.asInt) ?? num(p.asDouble) ?? 0 });
        }
      }
    }
  }
  return out;
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function decodeProtobufMetrics(body: Uint8Array): OtlpMetricPoint[] {
  const type = exportMetricsServiceRequest();
  return normalize(type.toObject(type.decode(body), { longs: String, enums: String }) as RawRequest);
}

export function decodeJsonMetrics(body: Uint8Array): OtlpMetricPoint[] {
  return normalize(JSON.parse(Buffer.from(body).toString("utf8")) as RawRequest);
}
