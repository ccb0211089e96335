/**
 * A fake Azure OpenAI resource: it answers only what Azure would — the `api-key` header of the resource, a known
 * deployment under /openai/deployments/<name>/…, a supported `api-version` — with Azure's error shapes otherwise,
 * and replays scripted replies (ScriptedUpstream) for requests it accepts.
 */
import { ScriptedUpstream, type Received, type Reply } from './scripted-upstream.js';

export class FakeAzure extends ScriptedUpstream {
  constructor(
    readonly apiKey: string,
    readonly deployments: string[],
    readonly apiVersions: string[] = ['2024-10-21'],
  ) {
    super();
    this.precheck = (r) => this.refusal(r);
  }

  private refusal(r: Received): Reply | undefined {
    if (r.headers['api-key'] !== this.apiKey) {
      return azureError(401, '401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.');
    }
    const url = new URL(r.url, 'http://azure');
    const version = url.searchParams.get('api-version');
    if (!version) return azureError(404, '404', 'Resource not found');
    if (!this.apiVersions.includes(version)) return azureError(400, 'BadRequest', `API version not supported: ${version}`);
    const m = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(url.pathname);
    if (!m) return azureError(404, '404', 'Resource not found');
    if (!this.deployments.includes(decodeURIComponent(m[1]!))) {
      return azureError(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.');
    }
    return undefined;
  }
}

function azureError(status: number, code: string, message: string): Reply {
  return { json: { error: { code, message } }, status };
}
