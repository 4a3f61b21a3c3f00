import { randomBytes } from 'crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';

export const ROLES = ['ingest', 'manager', 'analyst', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  role: Role;
  /** Managers only: whose customers they see. */
  managerId?: string;
}

export interface ApiTokens {
  byToken: Map<string, Principal>;
  /** Where the generated admin token was written (embedded default), if it was. */
  adminTokenFile: string | null;
}

/** A configuration error: names the variable and what is wrong, for the start-up message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Bearer tokens (DESIGN §5): `CRM_API_TOKENS` = `{"<token>": {"role": "...", "managerId": "..."}}`.
 * Unset: one admin token is generated once into `<dataDir>/admin-token` (mode 600) and reused.
 */
export function loadApiTokens(dir: string, env: NodeJS.ProcessEnv = process.env): ApiTokens {
  const raw = env.CRM_API_TOKENS;
  if (raw === undefined || raw.trim() === '') {
    const file = join(dir, 'admin-token');
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
      chmodSync(file, 0o600);
    }
    return { byToken: new Map([[readFileSync(file, 'utf8').trim(), { role: 'admin' }]]), adminTokenFile: file };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(`CRM_API_TOKENS is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError('CRM_API_TOKENS must be a JSON object mapping each token to {"role": ..., "managerId": ...}');
  const byToken = new Map<string, Principal>();
  for (const [token, value] of Object.entries(parsed as Record<string, unknown>)) {
    const where = `CRM_API_TOKENS["${token.slice(0, 4)}…"]`;
    if (token.length < 8) throw new ConfigError(`${where}: a token must have at least 8 characters`);
    const v = value as { role?: unknown; managerId?: unknown } | null;
    if (v === null || typeof v !== 'object') throw new ConfigError(`${where} must be an object {"role": ...}`);
    if (typeof v.role !== 'string' || !(ROLES as readonly string[]).includes(v.role)) throw new ConfigError(`${where}.role must be one of ${ROLES.join(', ')}`);
    const role = v.role as Role;
    if (role === 'manager') {
      if (typeof v.managerId !== 'string' || v.managerId === '') throw new ConfigError(`${where}.managerId is required for the manager role`);
      byToken.set(token, { role, managerId: v.managerId });
    } else {
      if (v.managerId !== undefined) throw new ConfigError(`${where}.managerId is only for the manager role`);
      byToken.set(token, { role });
    }
  }
  return { byToken, adminTokenFile: null };
}
