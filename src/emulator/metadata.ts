// The GCE metadata server, as far as Application Default Credentials use it: the detection ping, the project id,
// the universe domain and access tokens that expire. Point GCE_METADATA_HOST at the emulator (host:port) and
// google-auth-library's Compute client talks to this instead of the link-local metadata address.
// Paths and the Metadata-Flavor handshake: https://cloud.google.com/compute/docs/metadata/querying-metadata
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VertexAuth } from './vertex.ts';

const FLAVOR = { 'metadata-flavor': 'Google' };

function sendText(res: ServerResponse, status: number, text: string, type = 'application/text'): void {
  const body = Buffer.from(text);
  res.writeHead(status, { ...FLAVOR, 'content-type': type, 'content-length': String(body.length) });
  res.end(body);
}

/** True when the path belongs to the metadata server. */
export const isMetadataPath = (pathname: string): boolean => pathname === '/computeMetadata/v1' || pathname.startsWith('/computeMetadata/v1/');

/** Answers one metadata request; returns the route name for the counters. */
export function handleMetadata(req: IncomingMessage, res: ServerResponse, url: URL, auth: VertexAuth, project: string): string {
  // Without the header a real metadata server refuses, which keeps browsers and SSRF out.
  if (String(req.headers['metadata-flavor'] ?? '').toLowerCase() !== 'google') {
    sendText(res, 403, 'Missing required header: Metadata-Flavor');
    return 'metadataForbidden';
  }
  const path = url.pathname.replace(/^\/computeMetadata\/v1\/?/, '').replace(/\/+$/, '');
  switch (path) {
    case '':
    case 'instance':
      sendText(res, 200, 'attributes/\nhostname\nid\nservice-accounts/\nzone\n');
      return 'metadataPing';
    case 'project/project-id':
      sendText(res, 200, project);
      return 'metadataProject';
    case 'project/numeric-project-id':
      sendText(res, 200, '123456789012');
      return 'metadataProject';
    case 'universe/universe-domain':
      sendText(res, 200, 'googleapis.com');
      return 'metadataUniverse';
    case 'instance/service-accounts/default/email':
      sendText(res, 200, `emulated@${project}.iam.gserviceaccount.com`);
      return 'metadataEmail';
    case 'instance/service-accounts/default/token':
      sendText(res, 200, JSON.stringify(auth.issue()), 'application/json');
      return 'metadataToken';
    default:
      sendText(res, 404, 'Not Found', 'text/html');
      return 'metadataUnknown';
  }
}
