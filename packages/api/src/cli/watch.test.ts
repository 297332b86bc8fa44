import { describe, expect, it } from 'vitest';
import { drawScreen, type LiveBoard } from './watch.ts';

const board = (state: string, running: number, final: boolean): LiveBoard => ({
  id: 1,
  final,
  study: {
    id: 'st_1',
    name: 'demo',
    state,
    reason: state === 'running' ? null : 'stopped by user',
    createdAt: new Date(0).toISOString(),
    objective: { metric: 'val_auc_macro', direction: 'maximize' },
    budget: { max_trials: 4, max_epochs: 3 },
    counts: { queued: 0, running, completed: 1, stopped: 3 - running, failed: 0 },
  },
  total: 0,
  columns: [],
  progress: { finished: 4 - running, epochsDone: 6, planned: 4 },
  rows: [],
  changes: [],
});

describe('watch screen', () => {
  it('says how many trials of a stopped study are still stopping, until its final table', () => {
    const head = (b: LiveBoard) => drawScreen(b, 20, 1000).split('\n')[0];
    expect(head(board('stopped', 2, false))).toBe('demo (st_1) · stopped, 2 trials still stopping · maximize val_auc_macro');
    expect(head(board('stopped', 1, false))).toContain('stopped, 1 trial still stopping ·');
    expect(head(board('stopped', 0, true))).toBe('demo (st_1) · stopped · maximize val_auc_macro');
    expect(head(board('running', 2, false))).toBe('demo (st_1) · running · maximize val_auc_macro');
  });

  it('reads 100 % only once every trial has ended, not when the last one reported its last epoch', () => {
    const progress = (finished: number, epochsDone: number) =>
      drawScreen({ ...board('running', 4 - finished, false), progress: { finished, epochsDone, planned: 4 } }, 20, 1000).split('\n')[1];
    // 3 of 4 trials over, the fourth at its last epoch but still running.
    expect(progress(3, 12)).toMatch(/ 99% · 3\/4 trials/);
    expect(progress(4, 12)).toMatch(/ 100% · 4\/4 trials/);
  });

  it('gives no ETA while no trial runs (no worker serves the pool now)', () => {
    const line = (running: number) =>
      drawScreen(
        {
          ...board('running', running, false),
          study: {
            ...board('running', running, false).study,
            counts: { queued: 2 - running, running, completed: 2, stopped: 0, failed: 0 },
          },
          progress: { finished: 2, epochsDone: 6, planned: 4 },
        },
        20,
        60_000,
      ).split('\n')[1];
    expect(line(1)).toContain('ETA');
    expect(line(0)).not.toContain('ETA');
  });

  it('gives an ended study the time it ran, not the time since it began (watched 10 minutes later)', () => {
    const ended = board('stopped', 0, true);
    const line = drawScreen({ ...ended, study: { ...ended.study, finishedAt: new Date(63_000).toISOString() } }, 20, 600_000).split(
      '\n',
    )[1];
    expect(line).toContain('1 min 03 s elapsed');
    // Running: the time so far.
    expect(drawScreen(board('running', 2, false), 20, 600_000).split('\n')[1]).toContain('10 min 00 s elapsed');
  });
});

describe('watchStudy, aborted', () => {
  /**
   * A daemon's stream that sends one leaderboard event and then stays open. A running study's watch
   * is aborted once it read the event; a final one's while it waits for the study's answer, which
   * comes only after the abort.
   */
  async function abortedWatch(final: boolean) {
    const { createServer } = await import('node:http');
    const { ApiClient } = await import('./client.ts');
    const { watchStudy } = await import('./watch.ts');
    let connections = 0;
    let closed = false;
    let answerAsked = false;
    let answer!: () => void;
    const aborted = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const server = createServer((req, res) => {
      if (req.url === '/v1/studies/st_1') {
        answerAsked = true;
        void aborted.then(() => res.end(JSON.stringify({ objective: { metric: 'val_auc_macro' } })));
        return;
      }
      connections++;
      req.on('close', () => {
        closed = true;
      });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`id: 1\nevent: leaderboard\ndata: ${JSON.stringify(board(final ? 'completed' : 'running', final ? 0 : 2, final))}\n\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    let written = '';
    const write = (s: string) => {
      written += s;
      return true;
    };
    const out = { isTTY: false, write } as unknown as NodeJS.WriteStream;
    const controller = new AbortController();
    try {
      const watching = watchStudy(new ApiClient(`http://127.0.0.1:${port}`), 'st_1', { out, signal: controller.signal });
      const outcome = watching.then(
        (status) => `resolved ${status}`,
        (err: Error) => err.message,
      );
      while (final ? !answerAsked : connections === 0) await new Promise((r) => setTimeout(r, 10));
      if (!final) await new Promise((r) => setTimeout(r, 200)); // its event read: the stream open, nothing more to come
      const before = written;
      controller.abort(new Error('SIGINT'));
      answer();
      const result = await outcome;
      await new Promise((r) => setTimeout(r, 600)); // past the 250 ms a dropped stream waits before it reconnects
      return { result, writtenAfter: written.slice(before.length), connections, closed };
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }

  it('closes its stream, does not reconnect, writes nothing more and rejects with the reason', async () => {
    expect(await abortedWatch(false)).toEqual({ result: 'SIGINT', writtenAfter: '', connections: 1, closed: true });
  }, 10_000);

  it("writes neither the answer nor the study's end when the abort comes while it reads the answer", async () => {
    expect(await abortedWatch(true)).toMatchObject({ result: 'SIGINT', writtenAfter: '' });
  }, 10_000);
});
