import { createCustomerDecider, CustomerDecider, customerDecider, DEFAULT_POLICIES, formatInstant, Policy, PolicyBook, policyFrom, startOfNextMonth, addMonths } from '@crm/domain';
import { derivedEventId, EventStore, Position } from '@crm/event-store';

export const POLICIES_STREAM = 'policies';
export const POLICY_ADOPTED = 'PolicyAdopted';

export interface AdoptedPolicy {
  policy: Policy;
  /** Where the adoption was recorded: commands recorded after it are decided under it. */
  position: Position;
  recordedAt: string;
}

/** The policy in force for any recorded position, from one read of the adopted versions. */
export interface PolicyTimeline {
  /** The book in force when `position` was recorded, and how many adopted versions it holds (a cache key). */
  bookAt(position: Position): { adopted: number; book: PolicyBook };
  /** The decider under which a command recorded at `position` was decided. */
  deciderAt(position: Position): CustomerDecider;
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
  /** By how many adopted versions they include (see bookWith). */
  private readonly books: PolicyBook[] = [];
  private readonly deciders: CustomerDecider[] = [];

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
    const adopted = await this.history();
    return this.bookWith(adopted, adopted.length);
  }

  /** The decider of the book in force now; the same object until a version is adopted. */
  async decider(): Promise<CustomerDecider> {
    const adopted = await this.history();
    return this.deciderWith(adopted, adopted.length);
  }

  /**
   * The versions as adopted now, answering for any recorded position without further reads: verify and what-if ask
   * for every command of every stream.
   */
  async timeline(): Promise<PolicyTimeline> {
    const adopted = await this.history();
    const before = (position: Position): number => {
      let n = 0;
      while (n < adopted.length && adopted[n].position < position) n++;
      return n;
    };
    return {
      bookAt: (position) => {
        const n = before(position);
        return { adopted: n, book: this.bookWith(adopted, n) };
      },
      deciderAt: (position) => this.deciderWith(adopted, before(position)),
    };
  }

  /** Every version in force, oldest first, with when it was adopted (null: built in). */
  async versions(): Promise<(Policy & { adoptedAt: string | null })[]> {
    const adoptedAt = new Map((await this.history()).map((a) => [a.policy.version, a.recordedAt]));
    return (await this.book()).all.map((p) => ({ ...p, adoptedAt: adoptedAt.get(p.version) ?? null }));
  }

  /** Reads `patch` (a partial policy) over the latest version: the next version number, checked field by field. */
  async propose(patch: unknown): Promise<Policy> {
    const latest = (await this.book()).latest;
    return policyFrom(patch, { ...latest, version: latest.version + 1 });
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

  /** `adopt` of a partial policy (see `propose`). */
  async adoptPatch(patch: unknown, closedThrough: string | null): Promise<AdoptedPolicy> {
    return this.adopt(await this.propose(patch), closedThrough);
  }

  /**
   * The base book with the first `n` adopted versions laid over it (in adoption order, as they were adopted).
   * Cached by `n`: the stream only grows, so the first `n` versions never change.
   */
  private bookWith(adopted: readonly AdoptedPolicy[], n: number): PolicyBook {
    for (let i = this.books.length; i <= n; i++) this.books[i] = i === 0 ? this.base : this.books[i - 1].with(adopted[i - 1].policy);
    return this.books[n];
  }

  private deciderWith(adopted: readonly AdoptedPolicy[], n: number): CustomerDecider {
    let d = this.deciders[n];
    if (!d) d = this.deciders[n] = n === 0 && this.base === DEFAULT_POLICIES ? customerDecider : createCustomerDecider(this.bookWith(adopted, n));
    return d;
  }
}
