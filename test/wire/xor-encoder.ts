/** Test-only port of Prometheus's XOR appender (tsdb/chunkenc/xor.go), with BigInt bit handling. */
export class BitWriter {
  bytes: number[] = [];
  private count = 0; // bits free in the last byte
  writeBit(b: number): void {
    if (this.count === 0) {
      this.bytes.push(0);
      this.count = 8;
    }
    if (b) this.bytes[this.bytes.length - 1] |= 1 << (this.count - 1);
    this.count--;
  }
  writeBits(v: bigint, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.writeBit(Number((v >> BigInt(i)) & 1n));
  }
  writeByte(b: number): void {
    this.writeBits(BigInt(b), 8);
  }
}

const M64 = (1n << 64n) - 1n;
const f64bits = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return b.readBigUInt64LE();
};
const lz = (x: bigint) => {
  let n = 0;
  for (let i = 63; i >= 0 && ((x >> BigInt(i)) & 1n) === 0n; i--) n++;
  return n;
};
const tz = (x: bigint) => {
  let n = 0;
  for (let i = 0; i < 64 && ((x >> BigInt(i)) & 1n) === 0n; i++) n++;
  return n;
};
const bitRange = (x: bigint, n: number) => -((1n << BigInt(n - 1)) - 1n) <= x && x <= 1n << BigInt(n - 1);

function putUvarint(w: BitWriter, v: bigint): void {
  while (v >= 0x80n) {
    w.writeByte(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  w.writeByte(Number(v));
}

/** Encodes samples given as [timestamp, value bits] into a chunk payload: uint16 count + bit stream. */
export function encodeXor(samples: Array<[number, bigint]>): Uint8Array {
  const w = new BitWriter();
  let t = 0n;
  let tDelta = 0n;
  let v = 0n;
  let leading = 0xff;
  let trailing = 0;
  samples.forEach(([ts, bits], i) => {
    const T = BigInt(ts);
    if (i === 0) {
      putUvarint(w, T >= 0n ? T << 1n : (-T << 1n) - 1n);
      w.writeBits(bits, 64);
    } else {
      const d = T - t;
      if (i === 1) putUvarint(w, d);
      else {
        const dod = d - tDelta;
        if (dod === 0n) w.writeBit(0);
        else if (bitRange(dod, 14)) {
          w.writeBits(0b10n, 2);
          w.writeBits(dod & ((1n << 14n) - 1n), 14);
        } else if (bitRange(dod, 17)) {
          w.writeBits(0b110n, 3);
          w.writeBits(dod & ((1n << 17n) - 1n), 17);
        } else if (bitRange(dod, 20)) {
          w.writeBits(0b1110n, 4);
          w.writeBits(dod & ((1n << 20n) - 1n), 20);
        } else {
          w.writeBits(0b1111n, 4);
          w.writeBits(dod & M64, 64);
        }
      }
      const delta = bits ^ v;
      if (delta === 0n) w.writeBit(0);
      else {
        w.writeBit(1);
        let nl = lz(delta);
        const nt = tz(delta);
        if (nl >= 32) nl = 31;
        if (leading !== 0xff && nl >= leading && nt >= trailing) {
          w.writeBit(0);
          w.writeBits(delta >> BigInt(trailing), 64 - leading - trailing);
        } else {
          leading = nl;
          trailing = nt;
          w.writeBit(1);
          w.writeBits(BigInt(nl), 5);
          const sig = 64 - nl - nt;
          w.writeBits(BigInt(sig & 63), 6);
          w.writeBits(delta >> BigInt(nt), sig);
        }
      }
      tDelta = d;
    }
    t = T;
    v = bits;
  });
  const out = new Uint8Array(2 + w.bytes.length);
  out[0] = samples.length >> 8;
  out[1] = samples.length & 0xff;
  out.set(w.bytes, 2);
  return out;
}

export { f64bits };
