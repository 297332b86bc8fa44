import { describe, expect, it } from 'vitest';
import { LineBuffer, TailLines } from './line-buffer.ts';
import { parseReportLine, quoteNonFiniteTokens } from './report-line.ts';

describe('report lines', () => {
  it('reads a full record with layers and notes', () => {
    const r = parseReportLine(
      '{"sweepd": 1, "epoch": 3, "metrics": {"val_auc_macro": 0.812}, "layers": [{"layer": "fc", "kernelMovement": 0.0047, "quantiles": [0, 1]}], "notes": {"auc_undefined_classes": ["obj_1"]}}',
    );
    expect(r).toEqual({
      ok: true,
      epoch: {
        epoch: 3,
        metrics: { val_auc_macro: 0.812 },
        layers: [{ layer: 'fc', trainable: true, kernelMovement: 0.0047, quantiles: [0, 1] }],
        notes: { auc_undefined_classes: ['obj_1'] },
      },
    });
  });

  it('accepts NaN, Infinity and -Infinity as bare tokens or strings, and leaves them alone inside strings', () => {
    const r = parseReportLine(
      '{"sweepd": 1, "epoch": 1, "metrics": {"a": NaN, "b": Infinity, "c": -Infinity, "d": "NaN"}, "notes": {"msg": "loss was NaN, \\"Infinity\\" -Infinity"}}',
    );
    if (!r.ok) throw new Error(r.error);
    expect(r.epoch.metrics.a).toBeNaN();
    expect(r.epoch.metrics.b).toBe(Number.POSITIVE_INFINITY);
    expect(r.epoch.metrics.c).toBe(Number.NEGATIVE_INFINITY);
    expect(r.epoch.metrics.d).toBeNaN();
    expect(r.epoch.notes).toEqual({ msg: 'loss was NaN, "Infinity" -Infinity' });
    expect(quoteNonFiniteTokens('[NaN,-Infinity]')).toBe('["NaN","-Infinity"]');
  });

  it('flags an epoch whose layer statistics are NaN or infinite as diverged, naming the layers', () => {
    const r = parseReportLine(
      '{"sweepd": 1, "epoch": 3, "metrics": {"val_auc_macro": 0.5}, "notes": {"k": 1}, "layers": [' +
        '{"layer": "conv1", "kernelMovement": NaN, "quantiles": [NaN, 0.1]}, {"layer": "fc", "mean": 0.1, "quantiles": [Infinity]}, {"layer": "ok", "mean": 0.2}]}',
    );
    if (!r.ok) throw new Error(r.error);
    expect(r.epoch.notes).toEqual({ k: 1, diverged: true, non_finite_layers: ['conv1', 'fc'] });
    const fine = parseReportLine('{"sweepd": 1, "epoch": 1, "metrics": {"a": 0.5}, "layers": [{"layer": "ok", "mean": 0.2}]}');
    expect(fine.ok && fine.epoch.notes).toBeUndefined();
    // Weights that started at zero and moved (a zero-initialised head, LoRA's B): movement x / 0 = +Infinity, not a divergence.
    const fromZero = parseReportLine(
      '{"sweepd": 1, "epoch": 1, "metrics": {"a": 0.8}, "layers": [{"layer": "lora_B", "kernelMovement": Infinity, "updateRatio": Infinity, "mean": 0.001, "std": 0.002}]}',
    );
    expect(fromZero.ok && fromZero.epoch.notes).toBeUndefined();
  });

  it('refuses bad lines with a sentence naming the field', () => {
    const error = (line: string) => {
      const r = parseReportLine(line);
      return r.ok ? 'accepted' : r.error;
    };
    expect(error('not json')).toMatch(/^not JSON: /);
    expect(error('{"sweepd": 2, "epoch": 1, "metrics": {}}')).toBe('sweepd: must be 1 (the protocol version this worker reads)');
    expect(error('{"sweepd": 1, "epoch": 1.5, "metrics": {}}')).toBe('epoch: must be an integer');
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {"a": "high"}}')).toBe(
      'metrics.a: must be a number (NaN, Infinity, -Infinity allowed)',
    );
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {}, "layers": [{"layer": "fc", "kernel_movement": 1}]}')).toBe(
      'layers.0: unknown field(s) kernel_movement',
    );
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {}, "loss": 1}')).toBe('(line): unknown field(s) loss');
    // What the store cannot keep is this line's fault, refused here rather than holding up the reports behind it.
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {}, "layers": [{"layer": "0"}, {"layer": "0"}]}')).toBe(
      'layer 0 is listed twice in epoch 1',
    );
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {"a": 1}, "notes": {"device": "cpu\\u0000"}}')).toBe(
      'notes.device holds a NUL character, which the database cannot store',
    );
    // A metric named __proto__ would vanish from the record, not be stored.
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {"__proto__": 0.25, "a": 1}}')).toBe('metrics: the name __proto__ is not accepted');
    expect(error('{"sweepd": 1, "epoch": 1, "metrics": {"constructor": 0.25}}')).toBe('accepted');
  });

  it('refuses a line past its limits: too many metrics or layers, a long name, a large note', () => {
    const error = (fields: Record<string, unknown>) => {
      const r = parseReportLine(JSON.stringify({ sweepd: 1, epoch: 1, metrics: { a: 0.5 }, ...fields }));
      return r.ok ? 'accepted' : r.error;
    };
    const metrics = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`val_auc[c${i}]`, 0.5]));
    const layers = (n: number) => Array.from({ length: n }, (_, i) => ({ layer: `l${i}`, mean: 0 }));
    expect(error({ metrics: metrics(25_000), layers: layers(5_000) })).toBe('accepted');
    expect(error({ metrics: metrics(25_001) })).toBe('metrics: must have at most 25000 metrics');
    expect(error({ layers: layers(5_001) })).toBe('layers: must have at most 5000 layers');
    expect(error({ metrics: { ['m'.repeat(257)]: 1 } })).toBe('metrics: a metric name must be at most 256 characters');
    expect(error({ layers: [{ layer: 'x'.repeat(257) }] })).toBe('layers.0.layer: must be at most 256 characters');
    expect(error({ notes: { blob: 'x'.repeat(70_000) } })).toBe('notes: must be at most 65536 bytes of JSON');
    // Bytes, not characters: 30,000 three-byte characters are 90 KB.
    expect(error({ notes: { blob: '€'.repeat(30_000) } })).toBe('notes: must be at most 65536 bytes of JSON');
    // Measured as written: 54 KB of small floats in Python's notation, which JSON.stringify lengthens
    // (1e-05 to 0.00001) past 64 KB. The client accepted the line, and its epoch was dropped here.
    const floats = `{"sweepd":1,"epoch":1,"metrics":{"a":0.5},"notes":{"lr":[${Array(9000).fill('1e-05').join(',')}],"x":NaN}}`;
    const asWritten = parseReportLine(floats);
    expect(asWritten.ok ? 'accepted' : asWritten.error).toBe('accepted');
    expect(error({ notes: { lr: Array(14_000).fill(1e-5) } })).toBe('notes: must be at most 65536 bytes of JSON');
    // Nested thousands deep (12 KB): serialising it to measure it overflowed the stack and took the daemon down.
    const deep = `{"sweepd":1,"epoch":1,"metrics":{"a":0.6},"notes":{"d":${'['.repeat(6000)}${']'.repeat(6000)}}}`;
    const r = parseReportLine(deep);
    expect(r.ok ? 'accepted' : r.error).toBe('notes: must nest at most 32 levels');
    expect(error({ notes: { a: { b: { c: [1, [2, [3]]] } } } })).toBe('accepted');
  });

  it('quotes the non-finite tokens outside strings only, in a line of any length', () => {
    const line = `{"sweepd": 1, "epoch": 1, "metrics": {"a": NaN, "b": -Infinity, "c": Infinity}, "notes": {"s": "NaN \\" Infinity", "pad": "${'x'.repeat(50_000)}"}}`;
    const r = parseReportLine(line);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.epoch.metrics).toEqual({ a: Number.NaN, b: Number.NEGATIVE_INFINITY, c: Number.POSITIVE_INFINITY });
    expect(r.epoch.notes?.s).toBe('NaN " Infinity');
  });
});

describe('line buffer', () => {
  it('holds a partial last line until its newline, across reads, even inside a UTF-8 character', () => {
    const b = new LineBuffer();
    const bytes = Buffer.from('{"a": "é"}\n{"b"', 'utf8');
    const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of é
    expect(b.push(bytes.subarray(0, cut))).toEqual([]);
    expect(b.push(bytes.subarray(cut))).toEqual(['{"a": "é"}']);
    expect(b.push(Buffer.from(': 1}\r\n\n'))).toEqual(['{"b": 1}', '']);
    expect(b.rest()).toBeUndefined();
    b.push(Buffer.from('half'));
    expect(b.rest()).toBe('half');
  });

  it('joins a line held over many reads, drops a carriage return read apart from its newline, and cuts one past its limit', () => {
    const b = new LineBuffer(10);
    for (const piece of ['ab', 'cd', 'e\r']) expect(b.push(Buffer.from(piece))).toEqual([]);
    expect(b.push(Buffer.from('\nxy'))).toEqual(['abcde']);
    // 'xy' is held; 30 more bytes in 3 reads keep only the first 10 of the line, then a short one follows.
    for (let i = 0; i < 3; i++) b.push(Buffer.from('0123456789'));
    expect(b.push(Buffer.from('\nshort\n0123456789abc\n'))).toEqual(['xy01234567', 'short', '0123456789']);
    expect(b.rest()).toBeUndefined();
  });

  it('keeps the last lines of a stream, the unfinished one included', () => {
    const t = new TailLines(2);
    t.push(Buffer.from('a\nb\nc\nd'));
    expect(t.get()).toEqual(['c', 'd']);
    // A progress bar redrawn with carriage returns for a whole epoch: one line, cut at 2,000 characters.
    const bar = new TailLines(2);
    for (let i = 0; i < 5000; i++) bar.push(Buffer.from(`\repoch 1: ${i}/5000 batches`));
    bar.push(Buffer.from('\nTraceback (most recent call last):\n'));
    const [progress, last] = bar.get();
    expect(progress).toHaveLength(2001);
    expect(progress?.startsWith('\repoch 1: 0/5000 batches\repoch 1: 1/5000')).toBe(true);
    expect(last).toBe('Traceback (most recent call last):');
  });
});
