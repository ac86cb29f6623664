// GraphQL over HTTP for the benchmark's setup and its measured list queries: POST /graphql as the
// console and the widget do, with an optional bearer token; errors are thrown with their code.
export async function postGraphQL<T = any>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: Array<{ message: string; extensions?: { code?: string } }> };
  if (body.errors?.length || !body.data) {
    const error = body.errors?.[0];
    throw new Error(error ? `GraphQL ${error.extensions?.code ?? ''}: ${error.message}` : `HTTP ${response.status}`);
  }
  return body.data;
}
