import { createCustomerDecider, CustomerDecider, customerDecider, DEFAULT_POLICIES, formatInstant, Policy, PolicyBook, policyFrom, startOfNextMonth, addMonths } from '@crm/domain';
import { EventStore, Position } from '@crm/event-store';
import { derivedEventId } from './event-ids';

export const POLICIES_STREAM = 'policies';
export const POLICY_ADOPTED = 'PolicyAdopted';

export interface AdoptedPolicy {
  policy: Policy;
  /** Where the adoption was recorded: commands recorded after it are decided under it. */
  position: Position;
  recordedAt: string;
}

export class PolicyAdoptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyAdoptionError';
  }
}

/**
 * The policy versions in force (DESIGN §4, policy v1 built in) and the later ones adopted, recorded in the
 * stream `policies`. A version decides from its effective month on and never rewrites history: it may only
 * start after the last closed month, and every command is decided — and re-derived by verify — under the book
 * as it stood when the command was recorded.
 */
export class PolicyRegistry {
  private adopted: AdoptedPolicy[] | undefined;
  private revision = -1;
  private readonly deciders = new Map<number, CustomerDecider>();

  constructor(
    private readonly store: EventStore,
    private readonly base: PolicyBook = DEFAULT_POLICIES,
  ) {}

  /** The adopted versions in adoption order (re-read when another process adopted one). */
  async history(): Promise<AdoptedPolicy[]> {
    const revision = await this.store.streamRevision(POLICIES_STREAM);
    if (this.adopted === undefined || revision !== this.revision) {
      const adopted: AdoptedPolicy[] = [];
      for await (const e of this.store.readStream(POLICIES_STREAM)) {
        if (e.type === POLICY_ADOPTED) adopted.push({ policy: e.data as Policy, position: e.position, recordedAt: e.metadata.recordedAt });
      }
      this.adopted = adopted;
      this.revision = revision;
    }
    return this.adopted;
  }

  /** The book in force now. */
  async book(): Promise<PolicyBook> {
    return this.bookOf(await this.history(), Infinity);
  }

  /** The decider of the book in force now; the same object until a version is adopted. */
  async decider(): Promise<CustomerDecider> {
    return this.deciderOf(await this.history(), Infinity);
  }

  /** The decider under which a command recorded at `position` was decided. */
  async deciderAt(position: Position): Promise<CustomerDecider> {
    return this.deciderOf(await this.history(), position);
  }

  /** The book in force when `position` was recorded, and how many adopted versions it holds (a cache key). */
  async bookAt(position: Position): Promise<{ adopted: number; book: PolicyBook }> {
    const history = await this.history();
    return { adopted: history.filter((a) => a.position < position).length, book: this.bookOf(history, position) };
  }

  /** Reads `patch` (a partial policy) over the latest version: the next version number, checked field by field. */
  async propose(patch: unknown): Promise<Policy> {
    const latest = (await this.book()).latest;
    const p = policyFrom(patch, { ...latest, version: latest.version + 1 });
    return p;
  }

  /** Records a new version. It must be the next version number and start after the last closed month and after the latest version's start. */
  async adopt(policy: Policy, closedThrough: string | null, now: Date = new Date()): Promise<AdoptedPolicy> {
    const latest = (await this.book()).latest;
    if (policy.version !== latest.version + 1) throw new PolicyAdoptionError(`version must be ${latest.version + 1} (the latest is v${latest.version}), got ${policy.version}`);
    if (policy.effectiveFrom <= latest.effectiveFrom) throw new PolicyAdoptionError(`effectiveFrom must be after ${latest.effectiveFrom} (v${latest.version}), got ${policy.effectiveFrom}`);
    if (closedThrough !== null && policy.effectiveFrom <= closedThrough) {
      throw new PolicyAdoptionError(`effectiveFrom ${policy.effectiveFrom} is already closed (closed through ${closedThrough}): a policy never rewrites history; the earliest is ${addMonths(closedThrough, 1)}`);
    }
    const at = formatInstant(startOfNextMonth(addMonths(policy.effectiveFrom, -1)));
    const cause = `policy:v${policy.version}`;
    const r = await this.store.append(
      POLICIES_STREAM,
      [{ id: derivedEventId(cause, 0), type: POLICY_ADOPTED, data: policy, metadata: { correlationId: cause, causationId: cause, occurredAt: at, recordedAt: now.toISOString(), policyVersion: policy.version, schemaVersion: 1 } }],
      this.revision,
    );
    this.adopted = undefined;
    return { policy, position: r.position, recordedAt: now.toISOString() };
  }

  private bookOf(adopted: AdoptedPolicy[], position: Position | number): PolicyBook {
    let book = this.base;
    for (const a of adopted) if (a.position < position) book = book.with(a.policy);
    return book;
  }

  private deciderOf(adopted: AdoptedPolicy[], position: Position | number): CustomerDecider {
    let n = 0;
    for (const a of adopted) if (a.position < position) n++;
    let d = this.deciders.get(n);
    if (!d) this.deciders.set(n, (d = n === 0 && this.base === DEFAULT_POLICIES ? customerDecider : createCustomerDecider(this.bookOf(adopted.slice(0, n), Infinity))));
    return d;
  }
}
