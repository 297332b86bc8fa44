/** Letters, digits, '_' and '-': what a prefix may hold (it names streams), and what needs no encoding in a subject token. */
const NAME = /^[A-Za-z0-9_-]+$/;

export function checkName(what: 'prefix', value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new Error(`invalid NATS bus ${what} ${JSON.stringify(value)}: use only letters, digits, '_' and '-'`);
  }
  return value;
}

/**
 * One subject token (and consumer-name part) for a trial id or pool name. Plain names, like the
 * store's ids (`tr_` + base64url), are used as they are; any other (a pool 'gpu.a100', say) is
 * base64url-encoded behind a '~', which plain names cannot contain, so two names never share a token.
 */
export function idToken(id: string, what = 'trial id'): string {
  if (typeof id !== 'string' || id.length === 0) throw new Error(`a ${what} must be a non-empty string, got ${JSON.stringify(id)}`);
  return NAME.test(id) ? id : `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** The id or pool name a token of idToken stands for. */
export function tokenId(token: string): string {
  return token.startsWith('~') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}

/** Stream, subject and consumer names of one bus prefix. */
export class BusNames {
  readonly jobsStream: string;
  readonly reportsStream: string;
  readonly stopsStream: string;
  readonly daemonStream: string;
  readonly reportsConsumer: string;

  constructor(readonly prefix: string) {
    checkName('prefix', prefix);
    const upper = prefix.toUpperCase();
    this.jobsStream = `${upper}_JOBS`;
    this.reportsStream = `${upper}_REPORTS`;
    this.stopsStream = `${upper}_STOPS`;
    this.daemonStream = `${upper}_DAEMON`;
    this.reportsConsumer = `${prefix}_reports`;
  }

  get jobsSubjects(): string {
    return `${this.prefix}.jobs.>`;
  }
  get reportsSubjects(): string {
    return `${this.prefix}.reports.>`;
  }
  get stopsSubjects(): string {
    return `${this.prefix}.stops.*`;
  }
  /** Where the daemon reading this prefix's reports says it is alive. */
  get daemonSubject(): string {
    return `${this.prefix}.daemon`;
  }

  /** Where workers answer the daemon's roll call with the pools they serve (worker-presence.ts). */
  get rollCallSubject(): string {
    return `${this.prefix}.workers.roll-call`;
  }

  /** One subject per trial, so the stream can refuse a second copy of a pending job. */
  jobSubject(pool: string, trialId: string): string {
    return `${this.prefix}.jobs.${idToken(pool, 'pool')}.${idToken(trialId)}`;
  }
  poolFilter(pool: string): string {
    return `${this.prefix}.jobs.${idToken(pool, 'pool')}.*`;
  }
  /** The pool a pool's job filter (poolFilter) names, or undefined for another subject. */
  poolOfFilter(filter: string): string | undefined {
    const m = /^(.+)\.jobs\.([^.]+)\.\*$/.exec(filter);
    return m && m[1] === this.prefix ? tokenId(m[2] as string) : undefined;
  }
  jobsConsumer(pool: string): string {
    return `${this.prefix}_jobs_${idToken(pool, 'pool')}`;
  }
  reportSubject(trialId: string): string {
    return `${this.prefix}.reports.${idToken(trialId)}`;
  }
  stopSubject(trialId: string): string {
    return `${this.prefix}.stops.${idToken(trialId)}`;
  }
}
