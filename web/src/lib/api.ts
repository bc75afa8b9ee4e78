// The app talks to Tidings' own JSON:API with its session cookie (never an API key).
export const REVISION = "2026-10-15";
export const APP_API = "/api/x-tidings/app";

export class ApiError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

interface ErrorBody {
  errors?: { code?: string; detail?: string; title?: string }[];
}

export function errorFrom(status: number, body: unknown): ApiError {
  const first = (body as ErrorBody | null)?.errors?.[0];
  return new ApiError(status, first?.code ?? "error", first?.detail ?? first?.title ?? `HTTP ${status}`);
}

export async function api<T = unknown>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, headers, ...rest } = init;
  const response = await fetch(path, {
    credentials: "same-origin",
    ...rest,
    headers: {
      revision: REVISION,
      Accept: "application/vnd.api+json",
      ...(json === undefined ? {} : { "Content-Type": "application/vnd.api+json" }),
      ...headers,
    },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) throw errorFrom(response.status, body);
  return body as T;
}

export interface Resource<A = Record<string, unknown>> {
  type: string;
  id: string;
  attributes: A;
  relationships?: Record<string, { data?: { type: string; id: string } | { type: string; id: string }[] | null }>;
}

export interface Document<A = Record<string, unknown>> {
  data: Resource<A>;
  included?: Resource[];
}

export interface Collection<A = Record<string, unknown>> {
  data: Resource<A>[];
  included?: Resource[];
  links?: { next?: string | null };
}

// A JSON:API filter value: strings quoted, quotes inside escaped.
export function quote(value: string): string {
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function included<A>(doc: { included?: Resource[] }, type: string, id: string): Resource<A> | undefined {
  return doc.included?.find((item) => item.type === type && item.id === id) as Resource<A> | undefined;
}
