/** Letters, digits, '_' and '-': what a pool or prefix may hold, so it is one NATS subject token and part of a stream name. */
const NAME = /^[A-Za-z0-9_-]+$/;

export function checkName(what: 'prefix' | 'pool', value: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new Error(`invalid NATS bus ${what} ${JSON.stringify(value)}: use only letters, digits, '_' and '-'`);
  }
  return value;
}

/**
 * One subject token for an id. Ids made by the store (`tr_` + base64url) are used as they are; any
 * other id is base64url-encoded behind a '~', a character plain ids cannot contain, so two ids never
 * share a token.
 */
export function idToken(id: string): string {
  if (id.length === 0) throw new Error('a trial id must not be empty');
  return NAME.test(id) ? id : `~${Buffer.from(id, 'utf8').toString('base64url')}`;
}

/** Stream, subject and consumer names of one bus prefix. */
export class BusNames {
  readonly jobsStream: string;
  readonly reportsStream: string;
  readonly stopsStream: string;
  readonly reportsConsumer: string;

  constructor(readonly prefix: string) {
    checkName('prefix', prefix);
    const upper = prefix.toUpperCase();
    this.jobsStream = `${upper}_JOBS`;
    this.reportsStream = `${upper}_REPORTS`;
    this.stopsStream = `${upper}_STOPS`;
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

  /** One subject per trial, so the stream can refuse a second copy of a pending job. */
  jobSubject(pool: string, trialId: string): string {
    return `${this.prefix}.jobs.${checkName('pool', pool)}.${idToken(trialId)}`;
  }
  poolFilter(pool: string): string {
    return `${this.prefix}.jobs.${checkName('pool', pool)}.*`;
  }
  jobsConsumer(pool: string): string {
    return `${this.prefix}_jobs_${checkName('pool', pool)}`;
  }
  reportSubject(trialId: string): string {
    return `${this.prefix}.reports.${idToken(trialId)}`;
  }
  stopSubject(trialId: string): string {
    return `${this.prefix}.stops.${idToken(trialId)}`;
  }
}
