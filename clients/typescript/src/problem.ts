/** problem+json answers (RFC 9457 with a stable `code`) as exceptions. */

export interface FieldProblem {
  /** The field at fault, e.g. `phone`, `items.0.amount`. */
  field: string;
  /** Stable, e.g. `string_too_long`. */
  code: string;
  /** In the caller's language (Accept-Language). */
  message: string;
}

export interface ProblemInit {
  status: number;
  code: string;
  title: string;
  detail?: string | undefined;
  requestId?: string | undefined;
  type?: string | undefined;
  errors?: FieldProblem[] | undefined;
  cause?: unknown;
}

/**
 * A non-2xx answer of the service (or no answer at all: `status` 0, `code` `network_error`).
 * `code` is stable and machine-readable (`token_expired`, `validation_failed`, `http_502`…);
 * `title`, `detail` and each field's `message` are in the language the request asked for.
 */
export class ProblemError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly requestId?: string;
  readonly type?: string;
  readonly errors: FieldProblem[];

  constructor(init: ProblemInit) {
    super(init.detail || init.title, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "ProblemError";
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    if (init.detail !== undefined) this.detail = init.detail;
    if (init.requestId !== undefined) this.requestId = init.requestId;
    if (init.type !== undefined) this.type = init.type;
    this.errors = init.errors ?? [];
  }

  /** The message for one field (the first one naming it), for a form. */
  fieldMessage(field: string): string | undefined {
    return this.errors.find((error) => error.field === field)?.message;
  }
}

/** Whether `error` is a ProblemError, optionally with one of the given codes. */
export function isProblem(error: unknown, ...codes: string[]): error is ProblemError {
  return error instanceof ProblemError && (codes.length === 0 || codes.includes(error.code));
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function fieldProblems(value: unknown): FieldProblem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) return [];
    const record = item as Record<string, unknown>;
    return [
      {
        field: text(record.field) ?? "",
        code: text(record.code) ?? "",
        message: text(record.message) ?? "",
      },
    ];
  });
}

/**
 * The ProblemError of an error answer: its problem+json body when it has one, else one made of
 * the status (`code` `http_<status>`), e.g. for the HTML page of a proxy in front of the service.
 */
export function problemFrom(
  status: number,
  statusText: string,
  contentType: string | null,
  body: string,
  requestIdHeader: string | null,
): ProblemError {
  const requestId = requestIdHeader ?? undefined;
  if (contentType !== null && /[/+]json\b/i.test(contentType) && body !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      const code = text(record.code);
      if (code !== undefined) {
        return new ProblemError({
          status: typeof record.status === "number" ? record.status : status,
          code,
          title: text(record.title) ?? (statusText || `HTTP ${status}`),
          detail: text(record.detail),
          requestId: text(record.request_id) ?? requestId,
          type: text(record.type),
          errors: fieldProblems(record.errors),
        });
      }
    }
  }
  const plain = contentType !== null && /^text\/plain/i.test(contentType) ? body.trim() : "";
  return new ProblemError({
    status,
    code: `http_${status}`,
    title: statusText || `HTTP ${status}`,
    detail: plain ? plain.slice(0, 500) : undefined,
    requestId,
  });
}
