/**
 * Row ids are BIGINTs: the API sends them as strings, and JavaScript numbers lose digits past
 * 2^53. The OpenAPI document types an id in a path or a body as an integer, but the server
 * reads the text as is (a path segment; a JSON string in lax mode), so the console passes the
 * string through, typed as the number the schema names.
 */
export function idParam(id: string | number): number {
  return id as unknown as number
}
