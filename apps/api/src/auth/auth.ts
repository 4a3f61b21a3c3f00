import { CanActivate, createParamDecorator, ExecutionContext, ForbiddenException, Inject, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ApiTokens, Principal, Role } from '@crm/config';

export const API_TOKENS = Symbol('API_TOKENS');
const ROLES_KEY = 'crm:roles';
const PUBLIC_KEY = 'crm:public';

/** Which roles may call a route (admin always may). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** No token needed (health, readiness). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

type WithPrincipal = { headers: Record<string, string | string[] | undefined>; principal?: Principal };

/** The caller, set by the guard. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  return (ctx.switchToHttp().getRequest<WithPrincipal>().principal as Principal);
});

/** 401 without a valid bearer token, 403 when the token's role may not call the route. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(API_TOKENS) private readonly tokens: ApiTokens,
  ) {}

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<WithPrincipal>();
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    const principal = m ? this.tokens.byToken.get(m[1]) : undefined;
    if (principal === undefined) throw new UnauthorizedException(m ? 'unknown bearer token' : 'missing bearer token (Authorization: Bearer <token>)');
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets) ?? [];
    if (principal.role !== 'admin' && !roles.includes(principal.role)) throw new ForbiddenException(`role ${principal.role} may not do this`);
    req.principal = principal;
    return true;
  }
}
