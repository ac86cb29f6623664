// GraphQL over HTTP as the console and the widget send it: POST /graphql with an optional bearer
// token. Shared by the test servers' clients, the fault tests and the benchmark.
export interface GraphQLResult<T = any> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string; [key: string]: unknown } }>;
}

/** The answer as it came, errors included. */
export async function requestGraphQL<T = any>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResult<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResult<T>;
}

/** The data; an error (or no data) is thrown with its code. */
export async function postGraphQL<T = any>(baseUrl: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const body = await requestGraphQL<T>(baseUrl, query, variables, token);
  if (body.errors?.length || !body.data) {
    const error = body.errors?.[0];
    throw new Error(error ? `GraphQL ${error.extensions?.code ?? ''}: ${error.message}` : 'GraphQL: no data');
  }
  return body.data;
}
