/**
 * OTLP ExportTraceServiceRequest (opentelemetry-proto collector/trace/v1/trace_service.proto and
 * trace/v1/trace.proto) as protobuf, written by hand: 64-bit times and int64 attribute values arrive as
 * BigInt and are written exactly (protobufjs would take them through Long). Nested messages reserve five
 * bytes for their length and close up the gap afterwards. bench/traces.bench.ts measures it against
 * protobufjs on the same requests; test/traces checks it by decoding with protobufjs (otlp-schema.ts).
 *
 * The input types are structural: src/traces' model satisfies them without wire/ depending on traces/.
 */
export type OtlpValue =
  | { type: 'string'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'int'; value: bigint }
  | { type: 'double'; value: number }
  | { type: 'bytes'; value: Uint8Array }
  | { type: 'array'; values: OtlpValue[] }
  | { type: 'kvlist'; values: OtlpKeyValue[] }
  | { type: 'empty' };
export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

export interface OtlpSpanIn {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  traceState: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: OtlpKeyValue[];
  droppedAttributesCount?: number;
  events: Array<{ timeNs: bigint; name: string; attributes: OtlpKeyValue[]; droppedAttributesCount?: number }>;
  droppedEventsCount?: number;
  links: Array<{
    traceId: Uint8Array;
    spanId: Uint8Array;
    traceState: string;
    attributes: OtlpKeyValue[];
    flags?: number;
  }>;
  droppedLinksCount?: number;
  status: { code: number; message: string };
  flags?: number;
}

export interface OtlpResourceSpansIn {
  resource: { attributes: OtlpKeyValue[]; droppedAttributesCount?: number };
  scopeSpans: Array<{ scope: { name: string; version: string; attributes: OtlpKeyValue[] }; spans: OtlpSpanIn[] }>;
}

const utf8 = new TextEncoder();
const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

class Writer {
  buf = new Uint8Array(64 * 1024);
  view = new DataView(this.buf.buffer);
  pos = 0;

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.pos));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** int64 as protobuf varint: two's complement, so negatives take ten bytes. */
  varint64(v: bigint): void {
    this.ensure(10);
    let u = BigInt.asUintN(64, v);
    while (u >= 0x80n) {
      this.buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    this.buf[this.pos++] = Number(u);
  }

  tag(field: number, wt: number): void {
    this.varint((field << 3) | wt);
  }

  bytesField(field: number, b: Uint8Array): void {
    this.tag(field, WT_LEN);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Length and UTF-8 bytes written in place: ASCII by hand, the rest by encodeInto (TextEncoder.encode allocates and was 40 % of the time). */
  string(s: string): void {
    const len = s.length < 64 && /^[\x00-\x7f]*$/.test(s) ? s.length : Buffer.byteLength(s, 'utf8');
    this.varint(len);
    this.ensure(len);
    if (len === s.length) {
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    } else utf8.encodeInto(s, this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
  }

  stringField(field: number, s: string): void {
    if (s === '') return;
    this.tag(field, WT_LEN);
    this.string(s);
  }

  fixed64Field(field: number, v: bigint): void {
    if (v === 0n) return;
    this.tag(field, WT_I64);
    this.ensure(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }

  fixed32Field(field: number, v: number | undefined): void {
    if (!v) return;
    this.tag(field, WT_I32);
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  uintField(field: number, v: number | undefined): void {
    if (!v) return;
    this.tag(field, WT_VARINT);
    this.varint(v);
  }

  /** Opens a nested message: tag, then five reserved length bytes. */
  open(field: number): number {
    this.tag(field, WT_LEN);
    this.ensure(5);
    const at = this.pos;
    this.pos += 5;
    return at;
  }

  /** Closes a nested message: writes its length as a varint and moves the body up to meet it. */
  close(at: number): void {
    const len = this.pos - at - 5;
    let n = 1;
    for (let v = len; v >= 0x80; v = Math.floor(v / 0x80)) n++;
    if (n < 5) this.buf.copyWithin(at + n, at + 5, this.pos);
    let p = at;
    let v = len;
    while (v >= 0x80) {
      this.buf[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[p] = v;
    this.pos = at + n + len;
  }
}

function writeValue(w: Writer, field: number, v: OtlpValue): void {
  const at = w.open(field);
  switch (v.type) {
    case 'string':
      w.tag(1, WT_LEN);
      w.string(v.value);
      break;
    case 'bool':
      w.tag(2, WT_VARINT);
      w.varint(v.value ? 1 : 0);
      break;
    case 'int':
      w.tag(3, WT_VARINT);
      w.varint64(v.value);
      break;
    case 'double':
      w.tag(4, WT_I64);
      w.ensure(8);
      w.view.setFloat64(w.pos, v.value, true);
      w.pos += 8;
      break;
    case 'array': {
      const a = w.open(5);
      for (const x of v.values) writeValue(w, 1, x);
      w.close(a);
      break;
    }
    case 'kvlist': {
      const a = w.open(6);
      for (const kv of v.values) writeKeyValue(w, 1, kv);
      w.close(a);
      break;
    }
    case 'bytes':
      w.bytesField(7, v.value);
      break;
    default:
      break;
  }
  w.close(at);
}

function writeKeyValue(w: Writer, field: number, kv: OtlpKeyValue): void {
  const at = w.open(field);
  w.stringField(1, kv.key);
  writeValue(w, 2, kv.value);
  w.close(at);
}

function writeSpan(w: Writer, s: OtlpSpanIn): void {
  const at = w.open(2);
  w.bytesField(1, s.traceId);
  w.bytesField(2, s.spanId);
  w.stringField(3, s.traceState);
  if (s.parentSpanId) w.bytesField(4, s.parentSpanId);
  w.stringField(5, s.name);
  w.uintField(6, s.kind);
  w.fixed64Field(7, s.startNs);
  w.fixed64Field(8, s.endNs);
  for (const a of s.attributes) writeKeyValue(w, 9, a);
  w.uintField(10, s.droppedAttributesCount);
  for (const e of s.events) {
    const ea = w.open(11);
    w.fixed64Field(1, e.timeNs);
    w.stringField(2, e.name);
    for (const a of e.attributes) writeKeyValue(w, 3, a);
    w.uintField(4, e.droppedAttributesCount);
    w.close(ea);
  }
  w.uintField(12, s.droppedEventsCount);
  for (const l of s.links) {
    const la = w.open(13);
    w.bytesField(1, l.traceId);
    w.bytesField(2, l.spanId);
    w.stringField(3, l.traceState);
    for (const a of l.attributes) writeKeyValue(w, 4, a);
    w.fixed32Field(6, l.flags);
    w.close(la);
  }
  w.uintField(14, s.droppedLinksCount);
  if (s.status.code || s.status.message) {
    const sa = w.open(15);
    w.stringField(2, s.status.message);
    w.uintField(3, s.status.code);
    w.close(sa);
  }
  w.fixed32Field(16, s.flags);
  w.close(at);
}

/** Encodes one ExportTraceServiceRequest. */
export function encodeExportTraceRequest(resourceSpans: OtlpResourceSpansIn[]): Uint8Array {
  const w = new Writer();
  for (const rs of resourceSpans) {
    const ra = w.open(1);
    const res = w.open(1);
    for (const a of rs.resource.attributes) writeKeyValue(w, 1, a);
    w.uintField(2, rs.resource.droppedAttributesCount);
    w.close(res);
    for (const ss of rs.scopeSpans) {
      const sa = w.open(2);
      if (ss.scope.name || ss.scope.version || ss.scope.attributes.length) {
        const sc = w.open(1);
        w.stringField(1, ss.scope.name);
        w.stringField(2, ss.scope.version);
        for (const a of ss.scope.attributes) writeKeyValue(w, 3, a);
        w.close(sc);
      }
      for (const s of ss.spans) writeSpan(w, s);
      w.close(sa);
    }
    w.close(ra);
  }
  return w.buf.slice(0, w.pos);
}

/** ExportTraceServiceResponse.partial_success, if the receiver set one (rejected spans and its message). */
export function decodeExportTraceResponse(
  body: Uint8Array,
): { rejectedSpans: bigint; errorMessage: string } | undefined {
  let out: { rejectedSpans: bigint; errorMessage: string } | undefined;
  const r = { p: 0 };
  const varint = (b: Uint8Array, end: number): bigint => {
    let x = 0n;
    let shift = 0n;
    for (;;) {
      if (r.p >= end) throw new Error('truncated varint');
      const c = b[r.p++];
      x |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return x;
      shift += 7n;
    }
  };
  const skip = (wt: number, end: number) => {
    if (wt === 0) varint(body, end);
    else if (wt === 1) r.p += 8;
    else if (wt === 5) r.p += 4;
    else if (wt === 2) r.p += Number(varint(body, end));
    else throw new Error(`wire type ${wt}`);
  };
  while (r.p < body.length) {
    const tag = Number(varint(body, body.length));
    if (tag >> 3 === 1 && (tag & 7) === WT_LEN) {
      const len = Number(varint(body, body.length));
      const end = r.p + len;
      out = { rejectedSpans: 0n, errorMessage: '' };
      while (r.p < end) {
        const t = Number(varint(body, end));
        if (t >> 3 === 1 && (t & 7) === WT_VARINT) out.rejectedSpans = BigInt.asIntN(64, varint(body, end));
        else if (t >> 3 === 2 && (t & 7) === WT_LEN) {
          const l = Number(varint(body, end));
          out.errorMessage = Buffer.from(body.subarray(r.p, r.p + l)).toString('utf8');
          r.p += l;
        } else skip(t & 7, end);
      }
    } else skip(tag & 7, body.length);
  }
  return out;
}
