/**
 * Zeroed typed arrays, as `new Float64Array(n)` gives them, from wherever the caller chooses.
 * TPE takes one suggestion's arrays from an Arena; code without one (tests, one-off fits) uses
 * `fresh`.
 */
export interface TypedAlloc {
  f64(length: number): Float64Array;
  i32(length: number): Int32Array;
  u8(length: number): Uint8Array;
}

export const fresh: TypedAlloc = {
  f64: (length) => new Float64Array(length),
  i32: (length) => new Int32Array(length),
  u8: (length) => new Uint8Array(length),
};

/**
 * The typed arrays of one suggestion, carved one after another out of a buffer kept from one
 * suggestion to the next; `reset()` hands the whole buffer out again, so an array taken before it
 * must not be used after it. Why: at 10,000 trials a suggestion made about 950 kB of arrays.
 * Each one's memory comes from malloc and is freed only when the garbage collector gets to it,
 * so between collections every suggestion grew the process by that much, and on a virtual machine
 * the fresh pages cost about 240 page faults, some 3 ms an ask. Arrays that do not fit in the
 * buffer are allocated fresh, and the next reset grows the buffer to hold them all.
 */
export class Arena implements TypedAlloc {
  private buffer = new ArrayBuffer(1 << 16);
  /** Bytes handed out since the last reset, including those that did not fit. */
  private used = 0;

  reset(): void {
    if (this.used > this.buffer.byteLength) this.buffer = new ArrayBuffer(Math.ceil((this.used * 1.25) / 8) * 8);
    this.used = 0;
  }

  f64(length: number): Float64Array {
    const at = this.take(length * 8);
    return at < 0 ? new Float64Array(length) : new Float64Array(this.buffer, at, length).fill(0);
  }

  i32(length: number): Int32Array {
    const at = this.take(length * 4);
    return at < 0 ? new Int32Array(length) : new Int32Array(this.buffer, at, length).fill(0);
  }

  u8(length: number): Uint8Array {
    const at = this.take(length);
    return at < 0 ? new Uint8Array(length) : new Uint8Array(this.buffer, at, length).fill(0);
  }

  /** The byte offset of `bytes` more, 8-aligned, or −1 when the buffer is full. */
  private take(bytes: number): number {
    const at = this.used;
    this.used += Math.ceil(bytes / 8) * 8;
    return this.used <= this.buffer.byteLength ? at : -1;
  }
}
