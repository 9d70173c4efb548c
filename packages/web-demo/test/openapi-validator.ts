import { Ajv2020 } from 'ajv/dist/2020.js';

type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>> };

/**
 * Checks a real response body against the OpenAPI document's schema for that path, method and
 * status; returns the ajv errors as text, or '' when the body conforms.
 */
export function openApiValidator(document: unknown) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema(document as object, 'openapi.json');
  const doc = document as Document;

  return (path: string, method: string, status: number, body: unknown): string => {
    const response = doc.paths[path]?.[method.toLowerCase()]?.responses[String(status)];
    if (!response) return `status ${status} is not documented for ${method} ${path}`;
    const ref = response.content?.['application/json']?.schema?.$ref;
    if (!ref) return `no JSON schema documented for ${status} on ${method} ${path}`;
    const validate = ajv.getSchema(`openapi.json${ref}`);
    if (!validate) return `schema ${ref} not found`;
    return validate(body) ? '' : ajv.errorsText(validate.errors);
  };
}
