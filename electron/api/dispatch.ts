// Every call from any transport goes through here: the method name is checked, the arguments are parsed
// with the contract's schema (unknown keys refused), and the result is checked before it leaves.
import { z } from 'zod';
import { ApiError, methods, type ApiErrorBody, type MethodArgs, type MethodName, type MethodResult } from './contract';

export type Handlers = {
  [K in MethodName]: (args: MethodArgs<K>) => Promise<MethodResult<K>> | MethodResult<K>;
};

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`).join('; ');
}

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}

export async function dispatch(handlers: Handlers, name: string, rawArgs: unknown): Promise<unknown> {
  if (!isMethodName(name)) throw new ApiError('unknown_method', `There is no API method "${name}".`);
  const spec = methods[name];
  const parsed = spec.input.safeParse(rawArgs ?? {});
  if (!parsed.success) {
    throw new ApiError('invalid_arguments', `${name}: ${describeIssues(parsed.error)}`, parsed.error.issues);
  }
  const handler = handlers[name] as (args: unknown) => unknown;
  const result = await handler(parsed.data);
  const checked = spec.output.safeParse(result);
  if (!checked.success) {
    throw new ApiError('invalid_result', `${name} produced an invalid result: ${describeIssues(checked.error)}`);
  }
  return checked.data;
}

/** Any thrown value as the wire error shape; internal errors keep their message but no stack. */
export function toErrorBody(e: unknown): ApiErrorBody {
  if (e instanceof ApiError) return e.toBody();
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export function httpStatus(code: ApiErrorBody['code']): number {
  switch (code) {
    case 'invalid_arguments':
      return 400;
    case 'unauthorized':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
    case 'unknown_method':
      return 404;
    case 'conflict':
      return 409;
    default:
      return 500;
  }
}
