/** Secret redaction is shared with the MCP surface's outcome records; it lives in ../secrets.ts. */
export { Redactor } from '../secrets.js';
